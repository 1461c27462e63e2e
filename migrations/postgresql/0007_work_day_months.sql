-- depends: 0006_audit_reads
-- 就業日数 by month (projections/work_days.py): per worker × month × site × employer × trade, the
-- counted work dates as bits (bit d-1: day d). '' stands for a record that names no employer or
-- no trade. Kept with work_records in the projection's transaction; filled here from the records
-- there are (a worker has one record per site and date, so each bit is one record).
CREATE TABLE work_day_months (
    technician_id text NOT NULL,
    month date NOT NULL,
    site_id text NOT NULL,
    employer_business_id text NOT NULL,
    trade text NOT NULL,
    day_bits integer NOT NULL,
    PRIMARY KEY (technician_id, month, site_id, employer_business_id, trade)
);

INSERT INTO work_day_months (technician_id, month, site_id, employer_business_id, trade, day_bits)
SELECT technician_id, date_trunc('month', work_date)::date, site_id,
       coalesce(employer_business_id, ''), coalesce(trade, ''),
       bit_or(1 << (extract(day FROM work_date)::int - 1))
FROM work_records
WHERE status = 'counted'
GROUP BY 1, 2, 3, 4, 5;
