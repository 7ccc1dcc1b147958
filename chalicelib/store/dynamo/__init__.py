"""The DynamoDB kit: attribute codec (codec), get/query/transactions (table), key layout (keys), the generic tenant-scoped repository (entities)."""
