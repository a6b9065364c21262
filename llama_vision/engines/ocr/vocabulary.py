"""The words the OCR rules look for: labels, noise, addresses, payment and fuel names.

Regular expressions run on upper-cased OCR lines. Kept apart from the rules so the vocabulary can
grow (a new label, a new state) without touching the logic in `rules`.
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------------------------
# vocabulary
# --------------------------------------------------------------------------------------------

# "ABN", "A.B.N.", and the glued forms OCR makes of them ("CustomerA.B.N.2058...", "ABN37329")
ABN_LABEL = r"(?:A\.\s?B\.\s?N\.?|(?<![A-Z])ABN(?![A-Z]))"
ABN_LABEL_RE = re.compile(ABN_LABEL)

NOISE_RE = re.compile(
    r"^(TAX\s*INVOICE|INVOICE|RECEIPT|OFFICIAL\s+RECEIPT|CASH\s+(SALES?|BILL|RECEIPT)|SALES?\s+RECEIPT|"
    r"SIMPLIFIED\s+TAX\s+INVOICE|WELCOME.*|THANK\s*YOU.*|COPY|CUSTOMER\s+COPY|MERCHANT\s+COPY|"
    r"DUPLICATE|ORIGINAL|REPRINT|BILL|CASH\s*/?\s*CREDIT|[^A-Z]*)$"
)
# with the recogniser's slips on it: "SON BHD", "SIN BHD", "SDN BHU", "S/8", "MART 5/B"
LEGAL_SUFFIX_RE = re.compile(
    r"\b(S[DLOI0]N\.?\s*[BE83]H[DU]|[BE8]HD|BERHAD|PTY\.?\s*LTD|LTD|LIMITED|S/[B8](?![0-9])|(?<=[A-Z]\s)5/B|SB)"
    r"(?![A-Z])\.?")
# generic trade words that end a business name: where words printed run together are split
# ("SANYUSTATIONERYSHOP"); kinds of business, not names of any business
TRADE_WORDS = frozenset({
    "SHOP", "STORE", "STORES", "MART", "MARKET", "SUPERMARKET", "MINIMARKET", "STATIONERY", "HARDWARE", "TRADING",
    "TRADERS", "ENTERPRISE", "ENTERPRISES", "RESTAURANT", "BAKERY", "BAKERIES", "CAFE", "PHARMACY", "CHEMIST",
    "SUPPLY", "SUPPLIES", "SERVICES", "SERVICE", "CENTRE", "CENTER", "KITCHEN", "FOOD", "FOODS", "MOTORS",
    "ELECTRICAL", "ELECTRONICS", "PLUMBING", "BOOKS", "BOOKSTORE", "FURNITURE", "FLORIST", "TRAVEL", "HOTEL",
    "GRILL", "PIZZA", "COFFEE", "MEDICAL", "CLINIC", "DENTAL", "OPTICAL", "BEAUTY", "SALON", "FASHION", "BOUTIQUE",
    "DISTRIBUTOR", "DISTRIBUTORS", "MARKETING", "HOLDINGS", "INDUSTRIES", "ENGINEERING", "CONSTRUCTION",
    "SOLUTIONS", "STUDIO", "GARAGE", "TYRES", "PETROL", "STATION", "BUTCHER", "BUTCHERY", "GROCER", "GROCERY",
    "NEWSAGENCY", "LIQUOR", "CELLARS", "CARPENTRY", "NURSERY", "PRINTING", "MACHINERY", "TRANSPORT", "LOGISTICS",
})
# an office stamp over the header ("POSTED", "PAID"): never part of the name
STAMP_RE = re.compile(r"^\W*(POSTED|PAID|RECEIVED|ENTERED|APPROVED|CANCELL?ED|VOID|CHECKED|VERIFIED)\W*$", re.I)
# words that finish a name broken over two lines ("POPULAR BOOK" / "CO. (M) SDN BHD")
NAME_TAIL_WORDS = frozenset({"CO", "COMPANY", "M", "KL", "MALAYSIA", "AND", "TRADING", "ENTERPRISE", "ENTERPRISES",
                             "SDN", "BHD", "PTY", "LTD", "LIMITED", "SB", "S", "B", "BERHAD", "HOLDINGS", "GROUP"})
# a registration number printed after the name: "(126926-H)", "273500-U", "(CO.REG :860671-D)"
REG_NUMBER_RE = re.compile(r"\(?\s*(CO\.?\s*(NO|REG)\.?\s*[:.]?\s*)?\b\d{3,}\s?-?\s?[A-Z]\b\s*\)?")
REGISTRATION_RE = re.compile(
    r"(\bCO\.?\s*(NO|REG)|COMPANY\s*(NO|REG)|\bROC\b|\bREG(ISTRATION)?\.?\s*NO|GST\s*(REG|ID|NO)|"
    r"\bGST\s*[:#]|SST\s*(REG|ID|NO)|BUSINESS\s*(REG|NO)|\(\s*\d{4,}-?[A-Z]\s*\)|^\(?\d{5,}-[A-Z]\)?$)"
)
STOP_ADDRESS_RE = re.compile(
    r"(\bTEL\b|\bTEL\s*[:.]|TELEPHONE|\bPH(ONE)?\b|\bFAX\b|H/P|E-?MAIL|@|WWW\.|HTTP|" + ABN_LABEL + r"|\bACN\b|"
    r"\bGST\b|\bSST\b|TAX\s*INVOICE|INVOICE|RECEIPT|\bDATE\b|\bCASHIER\b|\bTABLE\b|\bBILL\b|"
    r"OPERATOR|DOC(UMENT)?\s*NO|\bSLIP\b|\bTIME\b)"
)
AU_STATES = r"(NSW|VIC|QLD|WA|SA|TAS|ACT|NT)"
MY_STATES = (
    r"(SELANGOR|KUALA\s*LUMPUR|JOHOR|PENANG|PULAU\s*PINANG|PERAK|KEDAH|KELANTAN|TERENGGANU|PAHANG|"
    r"MELAKA|MALACCA|NEGERI\s*SEMBILAN|SABAH|SARAWAK|PERLIS|PUTRAJAYA|LABUAN|MALAYSIA|DARUL\s*\w+)"
)
POSTCODE_END_RE = re.compile(
    r"((?<!\d)\d{5}(?!\d)|\b" + AU_STATES + r"\s*\d{4}\b|\b" + MY_STATES + r"\b[.,]?\s*$|\bAUSTRALIA\b)"
)
# an Australian locality line, suburb STATE postcode ("Sydney NSW 2000", "Port Melbourne VIC 3207")
LOCALITY_LINE_RE = re.compile(r"^[A-Z][A-Z .'-]*?[A-Z]\.?\s*" + AU_STATES + r"\s*\d{4}(\s*,?\s*AUSTRALIA)?\W*$")
ADDRESS_HINT_RE = re.compile(
    r"(\bNO\s*[.:]?\s*[A-Z]?\d|^[A-Z]{1,2}[.-]\d+\b|\bLOT\b|\bJALAN\b|\bJLN\b|\bTAMAN\b|\bLORONG\b|\bBANDAR\b|\bKAMPUNG\b|\bKG\b|"
    r"\bBLOCK\b|\bBLK\b|\bLEVEL\b|\bSUITE\b|\bUNIT\s*[A-Z]?\d|\bSHOP\s*[A-Z]?\d|\bFLR\b|\bFLOOR\b|"
    r"\bGND\b|\bGROUND\b|\b\d+(ST|ND|RD|TH)\b|\bPO\s*BOX\b|\bSTREET\b|\bST\b|\bROAD\b|\bRD\b|\bAVE\b|"
    r"\bAVENUE\b|\bHWY\b|\bHIGHWAY\b|\bDRIVE\b|\bDR\b|\bLANE\b|\bPLACE\b|\bPDE\b|\bPARADE\b|\bBLVD\b|"
    r"\bCRES\b|\bTCE\b|\bCOURT\b|\bCT\b|\bPERSIARAN\b|\bMEDAN\b|^\d+[A-Z]?[,\s-]|" + AU_STATES + r"\s*\d{4}|"
    + MY_STATES + r"|(?<!\d)\d{5}(?!\d))"
)

# label -> rank for the grand total (higher wins); the last matching line breaks ties, so a
# "Total" after "Rounding Adj" beats the "Total incl GST" before it
TOTAL_LABELS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"ROUND(ED|ING)?\s*(ED)?\s*TOTAL|TOTAL\s*\(?ROUNDED|AFTER\s*(ADJ|ROUND)"), 9),
    (re.compile(r"GRAND\s*TOTAL|NETT?\s*TOTAL|TOTAL\s*NETT?|NETT\b"), 8),
    (re.compile(r"(AMOUNT|AMT|BALANCE|TOTAL)\s*(DUE|PAYABLE)|TO\s*PAY\b|TO\s*BE\s*PAID|^\W*DUE\b"), 8),
    (re.compile(r"\bTOTAL(?!\s*PAID)|\bJUMLAH\b|\bAMOUNT\s*\(?(RM|\$|AUD)"), 6),
    # what was handed over after cash rounding: the total only when nothing else is labelled so
    (re.compile(r"TOTAL\s*PAID|AMOUNT\s*PAID"), 3),
)
NOT_TOTAL_RE = re.compile(
    r"SUB\s*-?\s*TOTAL|TOTAL\s*(QTY|QUANTITY|ITEMS?|ITEM\s*COUNT|PCS|UNITS?|SAVINGS?|SAVED|SAVING|DISCOUNTS?|DISC|"
    r"GST|TAX\b|SST|VOLUME|LITRES|POINTS?|STAMPS?|TENDERED?|CASH|CHANGE)|"
    r"\bEX(CL|CLUDING|CLUSIVE|C)?\b\.?\s*(OF\s*)?(GST|TAX|SST)|BEFORE\s*(GST|TAX)|"
    r"^\W*(GST|TAX|SST|VAT)\b|\d\s*%|INCLUDES|NETT?\s*OF\s*(GST|TAX|SST)|(GST|TAX)\s*OF\b|\bQTY\b|ROUNDING|\bADJ(USTMENT)?\b|\bCHANGE\b|POINTS|SAVING"
)
SUMMARY_RE = re.compile(r"(GST|TAX|SST)\s*(SUMMARY|ANALYSIS)|TAX\s*CODE\s*SUMMARY")
# labels that own the amount on their row: a bare label above such a row does not
MONEY_LABEL_RE = re.compile(r"TOTAL|CASH|CHANGE|GST|TAX|ROUND|DISCOUNT|TENDER|PAID|BALANCE|SAVING|DEPOSIT|VISA|CARD|EFTPOS")
SUBTOTAL_RE = re.compile(
    r"SUB\s*-?\s*TOTAL|TOTAL\s*\(?\s*EX(CL|CLUDING|CLUSIVE|C)?\b\.?\s*(OF\s*)?(GST|TAX|SST)|"
    r"(AMOUNT|AMT|PRICE|VALUE)\s*\(?\s*EX(CL|CLUDING|CLUSIVE|C)?\b\.?\s*(OF\s*)?(GST|TAX|SST)|"
    r"TOTAL\s*BEFORE\s*(GST|TAX)|NET\s*AMOUNT\s*\(?EX"
)
GST_AMOUNT_RE = re.compile(r"\b(GST|TAX|SST|VAT)\b")
GST_NOT_AMOUNT_RE = re.compile(
    r"(GST|SST|TAX)\s*(REG|ID|NO\b|NUMBER|INVOICE|SUMMARY|ANALYSIS|CODE|EXEMPT\b|FREE)|"
    r"(INC|INCL|INCLUDING|INCLUSIVE|EX|EXCL|EXCLUDING|EXCLUSIVE)\b\.?\s*(OF\s*)?(GST|TAX|SST)|"
    r"TAX\s*INVOICE|" + ABN_LABEL + r"|AMOUNT\s*\(RM\)"
)
GST_INCLUDED_RE = re.compile(
    r"(INCLUDES?|INCLUDING|INCL?\b\.?|INCLUSIVE\s*OF|INC\.)\s*(OF\s*)?(THE\s*)?(GST|TAX|SST)|"
    r"(GST|TAX)\s*(IS\s*)?(INCLUDED|INCLUSIVE|INCL\b)|PRICES?\s*INCLUDE\s*GST"
)
TAX_INVOICE_RE = re.compile(r"TAX\s*INVOICE")
# the document's own number (what the ATO calls the invoice number): an order or table number is
# the kitchen's, not the document's ("Table 27  Order #273" on a cafe receipt)
INVOICE_NO_LABEL = (r"(TAX\s*INVOICE|INVOICE|INV|RECEIPT|RCPT|BILL|DOC(UMENT)?|SLIP|TRANS(ACTION)?|TXN|REF(ERENCE)?|"
                    r"CHECK|CHK|CS|CB|TRN)\s*(NO\b|NUMBER|NUM\b|#|ID\b)\.?\s*[:#.]?\s*")
INVOICE_NO_LABEL_RE = re.compile(r"(?<![A-Z])" + INVOICE_NO_LABEL, re.I)  # in a piece as printed
# an invoice number's shape: letters and digits, a dash or slash inside ("INV-2041", "A8515")
INVOICE_NO_VALUE = r"(?P<num>[A-Z0-9][A-Z0-9\-/]{1,24})"
INVOICE_NO_RE = re.compile(INVOICE_NO_LABEL + INVOICE_NO_VALUE)
INVOICE_NO_LOOSE_RE = re.compile(r"(INVOICE|RECEIPT)\s*[:#]\s*(?P<num>[A-Z0-9][A-Z0-9\-/]{1,24})")
# (pattern, kind): the words are returned as printed ("VISA CREDIT"); earlier kinds win on a line
PAYMENT_WORDS: tuple[tuple[str, str], ...] = (
    (r"\bEFTPOS(\s*(CREDIT|CHEQUE|SAVINGS|DEBIT))?\b", "EFTPOS"),
    (r"\bVISA(\s*(CREDIT|DEBIT))?\b", "Visa"),
    (r"MASTER\s*CARD(\s*(CREDIT|DEBIT))?|\bMASTER\b", "Mastercard"),
    (r"\bAMEX\b|AMERICAN\s*EXPRESS", "Amex"),
    (r"\bDINERS(\s*CLUB)?\b", "Diners"),
    (r"\bPAYPAL\b", "PayPal"),
    (r"\bFLEET\s*CARD\b|\bFUEL\s*CARD\b|\bMOTOR\s*(PASS|CHARGE)\b", "Fleet card"),
    (r"APPLE\s*PAY|GOOGLE\s*PAY|\bPAYWAVE\b|CONTACTLESS", "Card"),
    (r"\b(DEBIT|CREDIT)\s*CARD\b|\bCARD\b", "Card"),
    (r"BANK\s*TRANSFER|DIRECT\s*(DEPOSIT|DEBIT)|\bEFT\b|\bBPAY\b", "Bank transfer"),
    (r"\bCASH\b", "Cash"),
)
PAYMENT_CONTEXT_RE = re.compile(r"\b(PAID|PAYMENT|TENDER(ED)?|METHOD|CHANGE)\b")
# the kinds that say how an invoice may be paid ("Payment by bank transfer within 7 days"): evidence
# of this payment only on a line that says it was made ("Paid by direct deposit")
TRANSFER_KINDS = frozenset({"Bank transfer"})
TRANSFER_PAID_RE = re.compile(r"\bPAID\b|RECEIVED|TENDER(ED)?|\bMETHOD\b")
# how to pay, or what is accepted: an advert or an instruction, not a record of this payment
PAYMENT_NOT_MADE_RE = re.compile(
    r"ACCEPT|WE\s*TAKE|AVAILABLE|SURCHARGE|WITHIN\s*\d+\s*DAYS|(?<!CHANGE )\bDUE\b|ON\s*REQUEST|\bPLEASE\b|"
    r"(BANK|DEPOSIT|PAYMENT|ACCOUNT|TRANSFER)\s*DETAILS|\bREMIT|PAYABLE\s*TO\b|\bBSB\b")
FUEL_TYPES: tuple[tuple[str, str], ...] = (
    (r"PREMIUM\s*(UNLEADED\s*)?98|\bP98\b|\bPULP\s*98|\bU98\b|ULTIMATE\s*98|V-?POWER", "Premium 98"),
    (r"PREMIUM\s*(UNLEADED\s*)?95|\bP95\b|\bPULP\b|\bU95\b", "Premium 95"),
    (r"\bE10\b|UNLEADED\s*E10|ETHANOL", "E10"),
    (r"PREMIUM\s*DIESEL|DIESEL|\bDSL\b", "Diesel"),
    (r"\bLPG\b|AUTOGAS", "LPG"),
    (r"(UNLEADED|\bULP\b|\bUNL\b)\s*91|\bU91\b|\bULP\b|UNLEADED", "Unleaded 91"),
)
LITRES_RE = re.compile(r"(?<![\d.])(?P<v>\d{1,3}[.,]\d{1,3})\s*(L|LT|LTR|LTRS|LITRES?|LITERS?)\b")
LITRES_LABEL_RE = re.compile(r"(LITRES?|LITERS?|VOLUME|QTY|QUANTITY)\b[^0-9]*(?P<v>\d{1,3}[.,]\d{1,3})")
PPL_RE = re.compile(
    r"(?P<v>\d{1,3}[.,]\d{1,4})\s*(?P<unit>C|CENTS?|\$)?\s*(/|PER)\s*(L|LT|LTR|LITRE|LITER)\b"
)
PPL_LABEL_RE = re.compile(r"(PRICE|RATE|UNIT\s*PRICE)\s*(/|PER)?\s*(L|LTR|LITRE|LITER)?\b[^0-9]*(?P<v>\d{1,3}[.,]\d{1,4})")
BSB_RE = re.compile(r"\bBSB\b\s*(NO\.?|NUMBER)?\s*[:#]?\s*(?P<v>\d{3})\s*[- ]?\s*(?P<w>\d{3})(?!\d)")
# "Accout number": small print loses a letter of ACCOUNT; one dropped letter is still the label
ACCOUNT_RE = re.compile(r"(ACCOUNT|\bAC?C?O?U?N?T(?<=\w{6})|ACC|A/C)\s*(NO\.?|NUMBER|NUM|#)\s*[:#.]?\s*(?P<v>\d[\d \-]{4,14}\d)")
# "Account holder:", "Account holder name", "Account name", "Name of account": the holder's label
HOLDER_LABEL_RE = re.compile(r"ACCOUNT\s*HOLDERS?(\s*NAMES?)?|ACCOUNT\s*NAMES?|NAMES?\s*OF\s*ACCOUNT", re.I)
PERIOD_RE = re.compile(r"(STATEMENT\s*)?PERIOD\s*[:\-]?\s*(?P<v>.+)", re.I)
OPENING_RE = re.compile(r"OPENING\s*(BALANCE|BAL)|BALANCE\s*(BROUGHT\s*FORWARD|B/?F)|PREVIOUS\s*BALANCE")
CLOSING_RE = re.compile(r"CLOSING\s*(BALANCE|BAL)|BALANCE\s*(CARRIED\s*FORWARD|C/?F)|NEW\s*BALANCE")
# the labels that start another party's block than the supplier's, at the start of a piece: the
# buyer's (the ATO's "recipient": "Bill To:", "Customer:", a bare "To:"), a delivery address's
# ("Ship To:": where goods go, never the buyer's name) or a person's to attend ("Attn:")
RECIPIENT_LABEL = (r"BILL(?:ED)?\s*TO\b|INVOICE\s*TO\b|SOLD\s*TO\b|"
                   r"(?:CUSTOMER|CLIENT|BUYER|RECIPIENT)(?:\s*NAME)?\s*(?=[:\-])|TO\s*(?=:)")
DELIVERY_LABEL = r"SHIP\s*TO\b|DELIVER(?:Y)?\s*TO\b"
ATTENTION_LABEL = r"ATTENTION\s*(?=:)|ATTN\b"
PARTY_LABEL_RE = re.compile(
    rf"^\s*(?:(?P<recipient>{RECIPIENT_LABEL})|(?P<delivery>{DELIVERY_LABEL})|(?P<attention>{ATTENTION_LABEL}))"
    r"\s*[:\-]?\s*", re.I)
BUYER_RE = re.compile(PARTY_LABEL_RE.pattern + r"(?P<v>.*)$", re.I)
# a piece that is a label rather than a value: a word or two and a colon ("Terms: 14 days",
# "Customer:"), or a table heading printed over its cells ("Date", "Qty", "Unit Price")
LABEL_PIECE_RE = re.compile(
    r"^\W*[A-Z][A-Z .#/&()]{0,30}:|"
    r"^\W*(((INVOICE|ISSUE|DUE|ORDER)\s*)?DATE|TERMS|QTY|QUANTITY|DESCRIPTION|AMOUNT|RATE|(UNIT\s*)?PRICE|"
    r"PAGE|DUE|REF(ERENCE)?|PO\s*(NO|NUMBER)?)\W*$", re.I)
ITEM_HEADER_RE = re.compile(r"\b(DESCRIPTION|ITEMS?|PRODUCT|PARTICULARS?)\b.*\b(QTY|QUANTITY|AMOUNT|AMT|PRICE|TOTAL|RM)\b|\bQTY\b.*\b(PRICE|AMOUNT|AMT)\b")
ITEM_SKIP_RE = re.compile(
    r"TOTAL|GST|\bTAX\b|ROUNDING|CHANGE|CASH\b|TENDER|DISCOUNT|BALANCE|PAID|EFTPOS|VISA|MASTERCARD|"
    r"\bCARD\b|AMOUNT\s*DUE|SAVINGS|\bDATE\b|INVOICE|RECEIPT|ABN|BSB"
)
