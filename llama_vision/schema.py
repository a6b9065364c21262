"""One home for the app's vocabulary: every field, document type, prompt style, engine name,
compliance element and accepted document extension, each stated once.

Everything else reads this module: `fields` (normalisation by kind), `parsing` (the synonyms
model answers use as keys, item aliases), `evaluation` (which fields compare as text),
`results_table` (column kinds), `ui.views` (labels, per-type field lists), `compliance` (element
labels), `prompts` (which fields each document type asks for), `documents`, `batch` and the UI
(document extensions), `config` and the CLI (engine names, prompt styles). Adding a field is one
`Field` entry in FIELDS plus its prompt text in `llama_vision/prompts_data/fields.yaml`;
tests/test_schema.py checks that it then reaches every consumer.

This is the bottom layer of the package: it imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

__all__ = [
    "ABN_FIELDS", "ALL_FIELDS", "BANK_FIELDS", "BOOL_FIELDS", "COMMON_FIELDS", "DOCUMENT_EXTENSIONS",
    "DOCUMENT_FORMATS", "DOCUMENT_LABELS", "DOCUMENT_TYPES", "DOCUMENT_WORDS", "ELEMENTS", "ELEMENT_LABELS",
    "ELEMENT_MISSING", "ELEMENT_SPECS", "ENGINE_CHOICES", "ENGINE_NAMES", "FIELDS", "FIELD_SYNONYMS", "FUEL_FIELDS",
    "ITEM_ALIASES", "ITEM_FIELDS", "ITEM_KEYS", "ITEM_LIST_KEYS", "KINDS", "MONEY_FIELDS", "NUMERIC_TEXT_FIELDS",
    "PROMPT_STYLES", "TEXT_FIELDS", "DocumentType", "Element", "EngineName", "Field", "ItemKey", "Kind",
    "PromptStyle", "fields_for", "fields_of_kind", "kind_of", "label_of",
]

# -- document types ---------------------------------------------------------------------------

DocumentType = Literal["receipt", "tax_invoice", "fuel_receipt", "bank_statement", "other"]
DOCUMENT_TYPES: tuple[str, ...] = get_args(DocumentType)
#: What a person reads (UI headings).
DOCUMENT_LABELS: Mapping[str, str] = MappingProxyType({
    "receipt": "Receipt", "tax_invoice": "Tax invoice", "fuel_receipt": "Fuel receipt",
    "bank_statement": "Bank statement", "other": "Other document",
})
#: The words a prompt uses for the document ("Read this {document}").
DOCUMENT_WORDS: Mapping[str, str] = MappingProxyType({
    "receipt": "receipt", "tax_invoice": "tax invoice", "fuel_receipt": "fuel receipt",
    "bank_statement": "bank statement", "other": "document",
})

# -- prompt styles and engines ------------------------------------------------------------------

PromptStyle = Literal["key_value", "json", "field_specific"]
PROMPT_STYLES: tuple[str, ...] = get_args(PromptStyle)
EngineName = Literal["llama", "openai", "ocr"]
ENGINE_NAMES: tuple[str, ...] = get_args(EngineName)
#: What LLAMA_VISION_ENGINE and --engine accept: an engine, or "auto" to pick one from Settings.
ENGINE_CHOICES: tuple[str, ...] = ("auto", *ENGINE_NAMES)

# -- document files -------------------------------------------------------------------------------

#: Formats a person may upload, with the extensions that mark them. Loading itself looks at the
#: content, not the name; the extensions decide what file pickers offer and folder scans pick up.
DOCUMENT_FORMATS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "JPEG": (".jpg", ".jpeg"), "PNG": (".png",), "WebP": (".webp",), "TIFF": (".tif", ".tiff"),
    "BMP": (".bmp",), "GIF": (".gif",), "PDF": (".pdf",),
})
DOCUMENT_EXTENSIONS: tuple[str, ...] = tuple(ext for exts in DOCUMENT_FORMATS.values() for ext in exts)

# -- fields -----------------------------------------------------------------------------------------

#: How a value is normalised, compared and shown:
#: text (one trimmed line), money ("12.30"), litre_price (dollars a litre, three places, c/L read),
#: number (a plain number, units dropped), date (DD/MM/YYYY), abn (11 digits), bsb (NNN-NNN),
#: bool (a yes/no flag) and items (the list of line items).
Kind = Literal["text", "money", "litre_price", "number", "date", "abn", "bsb", "bool", "items"]
KINDS: tuple[str, ...] = get_args(Kind)

_PURCHASES: tuple[str, ...] = ("receipt", "tax_invoice", "fuel_receipt", "other")
_INVOICES: tuple[str, ...] = ("tax_invoice", "other")


@dataclass(frozen=True)
class Field:
    """One field of the Result's `fields`.

    `document_types` are the documents whose prompts ask for it and whose UI page shows a row for
    it; `synonyms` are the keys model answers use for it besides its own name (matched after
    lower-casing and turning punctuation into "_", so "Business Name" is "business_name").
    """

    name: str
    kind: Kind
    label: str
    document_types: tuple[str, ...]
    synonyms: tuple[str, ...] = ()


FIELDS: tuple[Field, ...] = (
    # -- every purchase document (the order is the Result's and the batch table's)
    Field("supplier_name", "text", "Supplier", DOCUMENT_TYPES, (
        "supplier", "business", "business_name", "store", "store_name", "merchant", "merchant_name", "vendor",
        "vendor_name", "seller", "seller_name", "company", "company_name", "shop", "shop_name", "retailer",
        "trading_name", "issuer", "biller", "payee", "supplier_business_name", "supplier_company_name",
    )),
    Field("supplier_abn", "abn", "Supplier ABN", _PURCHASES, (
        "abn", "business_abn", "seller_abn", "vendor_abn", "merchant_abn", "store_abn", "company_abn", "payee_abn",
        "abn_number", "supplier_abn_number", "business_abn_number",
    )),
    Field("supplier_address", "text", "Supplier address", _PURCHASES, (
        "address", "business_address", "store_address", "merchant_address", "seller_address", "vendor_address",
        "company_address", "location", "supplier_business_address",
    )),
    Field("date", "date", "Date", _PURCHASES, (
        "invoice_date", "transaction_date", "receipt_date", "date_of_issue", "issue_date", "purchase_date",
        "document_date", "date_issued", "sale_date",
    )),
    Field("invoice_number", "text", "Invoice number", _PURCHASES, (
        "invoice_no", "invoice_num", "inv_no", "invoice_id", "receipt_number", "receipt_no", "receipt_id",
        "transaction_number", "transaction_no", "transaction_id", "reference", "reference_number", "ref", "ref_no",
        "docket_number", "tax_invoice_number", "document_number",
    )),
    Field("buyer_name", "text", "Buyer", _INVOICES, (
        "buyer", "customer", "customer_name", "payer", "payer_name", "bill_to", "billed_to", "recipient",
        "recipient_name", "client", "client_name", "purchaser", "purchaser_name", "sold_to",
    )),
    Field("buyer_abn", "abn", "Buyer ABN", _INVOICES, (
        "customer_abn", "payer_abn", "recipient_abn", "client_abn", "purchaser_abn",
    )),
    Field("subtotal", "money", "Subtotal (ex GST)", _PURCHASES, (
        "sub_total", "subtotal_ex_gst", "subtotal_excl_gst", "total_ex_gst", "total_excl_gst", "total_excluding_gst",
        "amount_ex_gst", "net", "net_amount", "net_total", "ex_gst", "subtotal_amount",
    )),
    Field("gst", "money", "GST", _PURCHASES, (
        "gst_amount", "tax", "tax_amount", "total_gst", "gst_total", "gst_10", "vat", "total_tax",
    )),
    Field("total", "money", "Total", _PURCHASES, (
        "total_amount", "amount_due", "total_due", "grand_total", "total_inc_gst", "total_incl_gst",
        "total_including_gst", "amount_paid", "balance_due", "total_payable", "amount_payable", "amount",
        "total_price", "invoice_total", "total_paid", "rounded_total",
    )),
    Field("payment_method", "text", "Payment method", _PURCHASES, (
        "payment", "paid_by", "payment_type", "tender", "tender_type", "card_type", "method_of_payment",
        "payment_mode",
    )),
    Field("tax_invoice_label", "bool", "Says \"tax invoice\"", _PURCHASES, (
        "tax_invoice", "is_tax_invoice", "tax_invoice_present", "tax_invoice_shown", "labelled_tax_invoice",
        "says_tax_invoice", "tax_invoice_words",
    )),
    Field("gst_included_statement", "bool", "\"Total includes GST\" statement", _PURCHASES, (
        "gst_statement", "includes_gst", "total_includes_gst", "price_includes_gst", "gst_inclusive",
        "gst_inclusive_statement", "prices_include_gst", "is_gst_included",
    )),
    Field("items", "items", "Items", _PURCHASES, (
        "line_items", "products", "item_list", "purchases", "goods", "lines", "item_lines",
    )),
    # -- fuel receipts
    Field("fuel_type", "text", "Fuel type", ("fuel_receipt",), (
        "fuel", "fuel_grade", "product_type", "grade",
    )),
    Field("litres", "number", "Litres", ("fuel_receipt",), (
        "liters", "volume", "fuel_quantity", "quantity_litres", "litres_purchased", "fuel_litres",
    )),
    Field("price_per_litre", "litre_price", "Price per litre", ("fuel_receipt",), (
        "price_per_liter", "unit_price_per_litre", "price_litre", "ppl", "price_l", "litre_price", "fuel_price",
    )),
    # -- bank statements
    Field("bsb", "bsb", "BSB", ("bank_statement",), (
        "bsb_number", "bank_state_branch", "bank_bsb", "bank_bsb_number", "bsb_no",
    )),
    Field("account_number", "text", "Account number", ("bank_statement",), (
        "account_no", "acc_no", "account", "acct_no", "account_num", "bank_account_number", "bank_account",
        "bank_account_no",
    )),
    Field("account_holder", "text", "Account holder", ("bank_statement",), (
        "account_name", "account_holder_name", "account_owner", "holder", "bank_account_holder",
        "bank_account_name",
    )),
    Field("statement_period", "text", "Statement period", ("bank_statement",), (
        "period", "statement_dates", "statement_date_range", "period_covered",
    )),
    Field("opening_balance", "money", "Opening balance", ("bank_statement",), (
        "opening", "balance_brought_forward", "starting_balance", "start_balance", "previous_balance",
        "account_opening_balance",
    )),
    Field("closing_balance", "money", "Closing balance", ("bank_statement",), (
        "closing", "balance_carried_forward", "ending_balance", "end_balance", "final_balance", "current_balance",
        "account_closing_balance",
    )),
)

_BY_NAME: Mapping[str, Field] = MappingProxyType({f.name: f for f in FIELDS})
ALL_FIELDS: tuple[str, ...] = tuple(_BY_NAME)
# The groups are derived, so a new field lands in the right one by its document types.
FUEL_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.document_types == ("fuel_receipt",))
BANK_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.document_types == ("bank_statement",))
COMMON_FIELDS: tuple[str, ...] = tuple(n for n in ALL_FIELDS if n not in FUEL_FIELDS + BANK_FIELDS)


def fields_of_kind(*kinds: str) -> frozenset[str]:
    """The names of the fields of these kinds."""
    return frozenset(f.name for f in FIELDS if f.kind in kinds)


MONEY_FIELDS: frozenset[str] = fields_of_kind("money", "litre_price")
BOOL_FIELDS: frozenset[str] = fields_of_kind("bool")
ABN_FIELDS: frozenset[str] = fields_of_kind("abn")
TEXT_FIELDS: frozenset[str] = fields_of_kind("text")
#: Kept as decimal strings everywhere ("12.30" must never show as 12.3 in a table).
NUMERIC_TEXT_FIELDS: frozenset[str] = fields_of_kind("money", "litre_price", "number")


def kind_of(name: str) -> str | None:
    """The kind of field `name`, or None for a name that is not a field."""
    field = _BY_NAME.get(name)
    return field.kind if field else None


def label_of(name: str) -> str:
    """What a person reads for field `name` ("supplier_abn" -> "Supplier ABN")."""
    field = _BY_NAME.get(name)
    return field.label if field else name.replace("_", " ").capitalize()


def fields_for(document_type: str | None) -> tuple[str, ...]:
    """The fields a document type asks for, in the Result's order (unknown types: "other")."""
    chosen = document_type if document_type in DOCUMENT_TYPES else "other"
    return tuple(f.name for f in FIELDS if chosen in f.document_types)


#: Every key an answer may use for a field -> the field (its own name included).
FIELD_SYNONYMS: Mapping[str, str] = MappingProxyType({
    **{alias: f.name for f in FIELDS for alias in f.synonyms},
    **{f.name: f.name for f in FIELDS},
})

# -- line items ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemKey:
    """One key of a line item. `aliases` are the keys (and table headers) answers use for it;
    `list_keys` the keys of parallel lists ("DESCRIPTIONS: a | b") that hold one value per item."""

    name: str
    kind: Kind
    label: str
    aliases: tuple[str, ...] = ()
    list_keys: tuple[str, ...] = ()


ITEM_FIELDS: tuple[ItemKey, ...] = (
    ItemKey("description", "text", "Description", (
        "desc", "item", "items", "name", "product", "details", "item_description",
    ), ("descriptions", "item_descriptions", "item_names", "products_list", "description", "item_description",
        "line_item_descriptions")),
    ItemKey("quantity", "number", "Quantity", ("qty", "count", "units"), (
        "quantities", "qtys", "item_quantities", "quantity", "qty", "line_item_quantities")),
    ItemKey("unit_price", "money", "Unit price", (
        "price", "unit", "each", "rate", "unit_cost", "price_each",
    ), ("unit_prices", "item_unit_prices", "unit_price", "line_item_unit_prices")),
    ItemKey("amount", "money", "Amount", (
        "total", "line_total", "subtotal", "value", "cost", "line_amount",
    ), ("amounts", "line_totals", "item_amounts", "item_totals", "line_amounts", "line_item_totals",
        "line_item_total_prices", "line_item_amounts")),
)
ITEM_KEYS: tuple[str, ...] = tuple(k.name for k in ITEM_FIELDS)
#: Item key or table header as written -> the item key.
ITEM_ALIASES: Mapping[str, str] = MappingProxyType({
    **{alias: k.name for k in ITEM_FIELDS for alias in k.aliases},
    **{k.name: k.name for k in ITEM_FIELDS},
})
#: Parallel-list key -> the item key it fills.
ITEM_LIST_KEYS: Mapping[str, str] = MappingProxyType({key: k.name for k in ITEM_FIELDS for key in k.list_keys})

# -- compliance elements ------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """One element a tax invoice must show (ARCHITECTURE.md §5), in `missing_elements`' vocabulary.

    `label` names the check in a table; `missing` is the phrase used when it is not there.
    """

    name: str
    label: str
    missing: str


ELEMENT_SPECS: tuple[Element, ...] = (
    Element("tax_invoice_label", "Says \"tax invoice\"", "the words \"tax invoice\""),
    Element("supplier_identity", "Supplier named", "the supplier's name"),
    Element("supplier_abn", "Supplier ABN shown", "the supplier's ABN"),
    Element("issue_date", "Date of issue", "the date of issue"),
    Element("item_description", "Items described", "a description of the items (quantity and price)"),
    Element("gst_amount", "GST shown", "the GST amount (or \"total includes GST\")"),
    Element("buyer_identity", "Buyer identified ($1,000+)", "the buyer's name or ABN ($1,000 or more)"),
)
#: The ATO's order; `missing_elements` uses exactly these names.
ELEMENTS: tuple[str, ...] = tuple(e.name for e in ELEMENT_SPECS)
ELEMENT_LABELS: Mapping[str, str] = MappingProxyType({e.name: e.label for e in ELEMENT_SPECS})
ELEMENT_MISSING: Mapping[str, str] = MappingProxyType({e.name: e.missing for e in ELEMENT_SPECS})
