-- depends: 0006_audit_reads
-- 就業日数 by month (projections/work_days.py): per worker × month × site × employer × trade, the
-- counted work dates as bits (bit d-1: day d). '' stands for a record that names no employer or
-- no trade. Kept with work_records in the projection's transaction; filled here from the records
-- there are (a worker has one record per site and date, so each bit is one record and their sum
-- is their OR). Dates are ISO text, months their first day.
CREATE TABLE work_day_months (
    technician_id TEXT NOT NULL,
    month TEXT NOT NULL,
    site_id TEXT NOT NULL,
    employer_business_id TEXT NOT NULL,
    trade TEXT NOT NULL,
    day_bits INTEGER NOT NULL,
    PRIMARY KEY (technician_id, month, site_id, employer_business_id, trade)
);

INSERT INTO work_day_months (technician_id, month, site_id, employer_business_id, trade, day_bits)
SELECT technician_id, substr(work_date, 1, 8) || '01', site_id,
       coalesce(employer_business_id, ''), coalesce(trade, ''),
       sum(1 << (CAST(substr(work_date, 9, 2) AS INTEGER) - 1))
FROM work_records
WHERE status = 'counted'
GROUP BY 1, 2, 3, 4, 5;
