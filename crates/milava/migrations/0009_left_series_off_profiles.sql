-- A professional who left a workshop series no longer has it on their profile (/profile, /mydata, the
-- participant list); the enrolment row keeps the fact that they left. From now on leaving clears it at once.
UPDATE participants SET series_id = NULL
WHERE EXISTS (
    SELECT 1 FROM enrolments e
    WHERE e.telegram_user_id = participants.telegram_user_id
      AND e.series_id = participants.series_id
      AND e.status = 'left'
);
