"""Every entity type of the main table, in one place: what ``entities``
stores for each kind (parent for ByParent, unique fields, ByRef1/ByRef2 refs).

Services name a type from here (or reach it through a repository in
``store/``); none defines one. Kinds that are only id counters, not entities,
are at the end.
"""
from __future__ import annotations

from chalicelib.store.dynamo.entities import EntityType, Ref

# Identity ---------------------------------------------------------------------

# Usernames are unique across tenants: Digest and the OAuth password grant name no tenant.
USER = EntityType(kind="USER", global_unique_fields=("username",))

# Customers and what belongs to them -------------------------------------------

# ByRef1 MGR#<user>: an account manager's customers; ByRef2 COM#<user>: a
# commission holder's. Scoped users list customers through them.
CUSTOMER_BY_MANAGER = Ref(slot=3, name="MGR", field="accountManagerId")
CUSTOMER_BY_COMMISSION_HOLDER = Ref(slot=4, name="COM", field="commissionHolderId")
CUSTOMER = EntityType(
    kind="CUSTOMER",
    unique_fields=("accountNumber",),
    refs=(CUSTOMER_BY_MANAGER, CUSTOMER_BY_COMMISSION_HOLDER),
)
SERVICE = EntityType(kind="SERVICE", parent_kind="CUSTOMER", parent_field="customerId")
FEATURE = EntityType(kind="FEATURE", parent_kind="CUSTOMER", parent_field="customerId")
NOTE = EntityType(kind="NOTE", parent_kind="CUSTOMER", parent_field="customerId")
NOTE_ATTACHMENT = EntityType(kind="NOTEATTACHMENT", parent_kind="NOTE", parent_field="noteId")
# A presigned upload waiting for its file (finish_upload turns it into a NOTE_ATTACHMENT).
UPLOAD = EntityType(kind="UPLOAD")

# Numbers: orders, port orders, trunk groups ------------------------------------

ORDER = EntityType(kind="ORDER", parent_kind="CUSTOMER", parent_field="customerId")
PORT_ORDER = EntityType(kind="PORTORDER", parent_kind="CUSTOMER", parent_field="customerId")
TRUNK = EntityType(kind="TRUNK", parent_kind="CUSTOMER", parent_field="customerId")

# Call tracking (store/tracking/) ------------------------------------------------

# ByRef1 NUMBER#<number>: the sources that held a number.
TRACKING_SOURCE = EntityType(kind="TRKSOURCE", parent_kind="CUSTOMER", parent_field="customerId",
                             refs=(Ref(slot=3, name="NUMBER", field="number"),))
# A voicemail greeting.
TRACKING_GREETING = EntityType(kind="TRKGREETING", parent_kind="CUSTOMER", parent_field="customerId")

# Voice platform (store/voice/): one account's hooks, devices and calls ---------

VOICE_HOOK = EntityType(kind="VHOOK", parent_kind="CUSTOMER", parent_field="customerId")
VOICE_DEVICE = EntityType(kind="VDEVICE", parent_kind="CUSTOMER", parent_field="customerId")
VOICE_CALL = EntityType(kind="VCALL", parent_kind="CUSTOMER", parent_field="customerId")

# Money --------------------------------------------------------------------------

# The billing platform API's view of an invoice: an entity with an integer id
# (per tenant), listed like the other children of a customer. Written in the
# same transaction as the ledger's I#<month> record, which stays the once-only
# guard and the carrier API's source; invoices never change after that.
INVOICE = EntityType(kind="INVOICE", parent_kind="CUSTOMER", parent_field="customerId")
# ByRef1 STATE#<open state>: the reconciliation job's lists. ByRef2
# CUST#<customer> sorted by createdAt: a customer's payments between two dates
# (get_payments) as one key range.
PAYMENT_BY_STATE = Ref(slot=3, name="STATE", field="openState")
PAYMENT_BY_DATE = Ref(slot=4, name="CUST", field="customerId", sort_field="createdAt")
PAYMENT = EntityType(kind="PAYMENT", parent_kind="CUSTOMER", parent_field="customerId",
                     unique_fields=("requestKey",), refs=(PAYMENT_BY_STATE, PAYMENT_BY_DATE))

# Id counters of things that are not entities of their own kind -------------------

NUMBER_IDS = "NUMBER"          # numbers' integer ids (store/numbers.py keeps numbers by number)
CART_IDS = "CART"              # reservation ids (store/carts.py)
ACCOUNT_NUMBERS = "ACCOUNTNO"  # the sequence behind allocated account numbers
STORED_FILE_IDS = "STOREDFILE"  # S3 objects of attachments
