"""Pure-Python core: entities, value objects, rules. No Qt, database or network here."""
