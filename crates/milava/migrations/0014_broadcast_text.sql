-- What an announcement said, so the console's list and progress page show which one is which (issue 21): the
-- console's text, or the text of the chat message a coordinator had copied. NULL for a copied picture or file
-- (and for broadcasts made before this column), whose content only Telegram holds.
ALTER TABLE broadcasts ADD COLUMN text TEXT;
