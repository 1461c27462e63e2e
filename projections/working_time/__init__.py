"""Working time read models: reported time, the overtime monitor's months, 36 agreements,
disaster work and a site's terms (handlers in `projections.working_time.handlers`); time on site
and site closures are read from the work records (`projections.queries.working_time`)."""
