"""Customers (accounts) and what they have: the customer record (accounts); services, features and notes (items); note attachments in S3 (attachments)."""
