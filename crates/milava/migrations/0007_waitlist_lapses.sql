-- How many place offers a person let run out in a series. A lapsed offer moves on only to someone waiting who
-- has not let one run out, so two people who both stay silent are not offered the same place back and forth.
ALTER TABLE enrolments ADD COLUMN offers_lapsed INTEGER NOT NULL DEFAULT 0;
