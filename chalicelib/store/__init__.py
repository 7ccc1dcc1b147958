"""DynamoDB, S3 and SQS access: the only package that imports the AWS SDK (botocore)."""
