-- Erasure: audit lines never carry a forgotten person's Telegram id.

-- Attendance changes named the person by Telegram id ("<session> <id>"); they now name the registration's
-- row id, which is deleted with the person. Earlier lines are rewritten the same way, and lines of people
-- already forgotten lose the id.
UPDATE audit_log
SET detail = substr(detail, 1, instr(detail, ' ')) || coalesce(
    (SELECT 'participant #' || p.id FROM participants p
     WHERE CAST(p.telegram_user_id AS TEXT) = substr(audit_log.detail, instr(audit_log.detail, ' ') + 1)),
    'a person since forgotten')
WHERE action = 'attendance_changed' AND instr(detail, ' ') > 0
  AND substr(detail, instr(detail, ' ') + 1) NOT LIKE 'participant #%';

-- /forget and the retention purges look lines up by actor.
CREATE INDEX audit_log_actor ON audit_log (actor);
