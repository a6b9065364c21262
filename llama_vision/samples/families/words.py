"""Words the family layouts add to the shared vocabulary (all businesses invented)."""

from __future__ import annotations

THERMAL_SHOPS = [
    ("Harbourside Pharmacy", [("Paracetamol 500mg 20pk", "4.99"), ("Vitamin C 1000mg", "14.95"),
                              ("Sunscreen SPF50 200ml", "16.99"), ("Hand Cream 75ml", "8.50"),
                              ("Toothpaste 110g", "5.25"), ("Cough Syrup 200ml", "12.99")]),
    ("Cellar Door Liquor", [("Shiraz 750ml", "22.00"), ("Pale Ale 6pk", "24.99"), ("Sparkling Wine", "18.50"),
                            ("Cider 4pk", "19.99"), ("Ice 5kg", "5.50")]),
    ("Corner Newsagency", [("Newspaper", "3.50"), ("Lotto Ticket", "11.20"), ("Greeting Card", "6.95"),
                           ("Notebook A5", "4.50"), ("Magazine", "9.99"), ("Pens 4pk", "5.80")]),
    ("Golden Crust Bakery", [("Meat Pie", "6.20"), ("Sausage Roll", "5.40"), ("Vanilla Slice", "5.80"),
                             ("Sourdough Loaf", "8.50"), ("Lamington", "4.20"), ("Iced Coffee 600ml", "4.95")]),
]
DOCKET_SERVOS = ["Eastlink Fuel & Go", "Bushranger Roadhouse", "Pacific Motorway Fuel", "Redgum Servo",
                 "Nullarbor Fuel Stop", "City Express Fuel"]
ROUNDING_CAFES = ["The Grounds Espresso", "Milk Bar Cafe", "Two Birds Kitchen", "Sunny Side Cafe",
                  "Pelican Point Kiosk", "The Corner Roastery"]
INVOICE_FIRMS = [
    ("Northside Signage Pty Ltd", ["Shopfront sign", "Vehicle wrap", "Design fee", "Installation", "Window decals"]),
    ("Peak Performance Physio", ["Initial consultation", "Standard consultation", "Dry needling",
                                 "Exercise program", "Taping"]),
    ("Meridian Bookkeeping", ["BAS preparation", "Payroll processing (per run)", "Bookkeeping (per hour)",
                              "Xero setup", "Year-end reconciliation"]),
    ("Silverwattle Events", ["Venue hire", "Audio visual package", "Catering (per head)", "Event staff (per hour)",
                             "Decorations"]),
    ("Ironbark Freight", ["Pallet freight Sydney-Melbourne", "Tail-lift delivery", "Fuel levy",
                          "Storage (per week)", "Packaging"]),
]
TRADIES = [
    ("Dave's Plumbing", ["Call out", "Labour 3 hrs", "Replace hot water system", "Materials", "Gas fitting"]),
    ("Sparky Bros Electrical", ["Install 6 downlights", "Labour", "Switchboard upgrade", "Smoke alarms x3",
                                "Safety certificate"]),
    ("Coastline Carpentry", ["Build deck 4x3m", "Timber and fixings", "Labour", "Stair construction",
                             "Oil finish"]),
    ("Mick's Roofing", ["Roof repair", "Replace ridge capping", "Gutter clean", "Materials", "Labour"]),
    ("Greenview Tiling", ["Bathroom floor tiling", "Waterproofing", "Wall tiles", "Grout and adhesive",
                          "Removal of old tiles"]),
    ("Surefire Conveyancing", ["Conveyancing services", "Title search", "Settlement fee", "PEXA fee",
                               "Disbursements"]),
]
STATEMENT_BANKS = [("Harbour City Bank Limited", "HCB"), ("Red Gum Mutual Bank", "RGM"),
                   ("Tasman Savings Bank Ltd", "TSB"), ("Kangaroo Point Credit Union", "KPCU")]
TRANSACTIONS = [("EFTPOS PURCHASE WOOLIES METRO", -1), ("SALARY ACME PTY LTD", 1), ("TRANSFER TO SAVINGS", -1),
                ("BPAY AGL ENERGY", -1), ("INTEREST CREDIT", 1), ("ATM WITHDRAWAL", -1),
                ("DIRECT DEBIT TELSTRA", -1), ("OSKO PAYMENT FROM J SMITH", 1), ("VISA PURCHASE BUNNINGS", -1)]
SHIP_TO_NAMES = ["Warehouse 3", "Site Office", "Reception", "Loading Dock B", "Attn: Accounts Payable"]
