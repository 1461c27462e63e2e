-- depends: 0003_read_models
-- Indexes the read-model queries use: a level judgment reads a worker's certificates, the prime's
-- inbox and scope find its sites, the Kentaikyo employer scope finds a business's places.
CREATE INDEX worker_certificates_worker ON worker_certificates (technician_id);
CREATE INDEX sites_prime ON sites (prime_business_id);
CREATE INDEX site_structure_business ON site_structure (business_id);
CREATE INDEX worker_employments_business ON worker_employments (business_id);
