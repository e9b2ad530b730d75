"""The audit trail: one writer for every audited change, and the durable lines of reads."""
