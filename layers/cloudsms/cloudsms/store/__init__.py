"""Where things are stored: one PynamoDB model per stored thing, one file per table."""
