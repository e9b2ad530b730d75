"""What every domain of the store stands on: the database (engine, sessions, units of work,
the tables and their migrations), ids, the steps a read is made of, and object storage."""
