"""Words for the synthetic documents: Australian places, shops, goods and services (all invented)."""

from __future__ import annotations

STREETS = ["George St", "Collins St", "King William St", "Hay St", "Queen St", "Elizabeth St", "Main Rd",
           "Pacific Hwy", "High St", "Church St", "Station Rd", "Beach Rd", "Smith St", "Victoria Pde"]
TOWNS = [("Sydney", "NSW", 2000), ("Parramatta", "NSW", 2150), ("Newcastle", "NSW", 2300),
         ("Melbourne", "VIC", 3000), ("Geelong", "VIC", 3220), ("Brisbane", "QLD", 4000),
         ("Cairns", "QLD", 4870), ("Adelaide", "SA", 5000), ("Perth", "WA", 6000),
         ("Fremantle", "WA", 6160), ("Hobart", "TAS", 7000), ("Darwin", "NT", 800), ("Canberra", "ACT", 2601)]
CAFES = ["Bean There Cafe", "The Daily Grind", "Little Magpie Espresso", "Wattle & Co Cafe", "Bondi Brew House",
         "Flat White Society", "Kookaburra Kitchen", "Laneway Coffee Roasters"]
CAFE_MENU = [("Flat White", "5.00"), ("Long Black", "4.50"), ("Cappuccino", "5.00"), ("Latte", "5.20"),
             ("Chai Latte", "5.50"), ("Hot Chocolate", "5.00"), ("Smashed Avo", "19.50"),
             ("Bacon & Egg Roll", "12.00"), ("Banana Bread", "6.50"), ("Big Breakfast", "24.00"),
             ("Croissant", "5.50"), ("Iced Coffee", "7.50"), ("Orange Juice", "6.00"), ("Muffin", "5.00")]
SUPERMARKETS = ["FreshMart Supermarket", "Southern Grocer", "Harvest Foods", "Corner IGA Market", "ValueFresh"]
# (description, unit price, gst free, sold by weight)
GROCERIES = [("Bananas Cavendish", "3.90", True, True), ("Full Cream Milk 2L", "3.10", True, False),
             ("Wholemeal Bread 700g", "4.50", True, False), ("Free Range Eggs 12pk", "6.80", True, False),
             ("Chicken Breast", "13.00", True, True), ("Apples Pink Lady", "5.90", True, True),
             ("Dishwashing Liquid", "4.20", False, False), ("Chocolate Block 180g", "5.50", False, False),
             ("Soft Drink 1.25L", "3.40", False, False), ("Paper Towel 2pk", "4.80", False, False),
             ("Potato Chips 175g", "4.00", False, False), ("Laundry Powder 2kg", "12.50", False, False),
             ("Cheddar Cheese 500g", "7.50", True, False), ("Tomatoes", "6.90", True, True)]
HARDWARE_STORES = ["Harbour Hardware", "Tradies Depot", "Bluegum Building Supplies", "Outback Hardware & Timber"]
HARDWARE = [("Pine Stud 90x45 2.4m", "8.50"), ("Decking Screws 50mm 200pk", "24.90"),
            ("Exterior Paint 4L", "79.00"), ("Paint Roller Kit", "18.50"), ("Cordless Drill 18V", "129.00"),
            ("Garden Hose 20m", "39.90"), ("Cement 20kg", "9.80"), ("Wheelbarrow", "119.00"),
            ("Sandpaper Assorted 10pk", "8.90"), ("PVC Pipe 90mm 3m", "27.50"), ("Silicone Sealant", "11.40"),
            ("Safety Glasses", "6.90"), ("Extension Lead 10m", "24.00")]
SERVOS = ["Southern Cross Fuel", "Outback Petroleum", "Coastal Fuels", "Bush Track Servo", "Metro Fuel Stop"]
FUELS = [("Unleaded 91", 165.9, 199.9), ("E10", 162.9, 195.9), ("Diesel", 179.9, 219.9),
         ("Premium 95", 179.9, 214.9), ("Premium 98", 189.9, 229.9)]
SERVO_SHOP = [("Chocolate Bar", "3.50"), ("Coffee Regular", "4.50"), ("Bottled Water 600ml", "3.80"),
              ("Windscreen Wash 1L", "6.50")]
SUPPLIERS = [("Coastal Plumbing Services Pty Ltd", ["Call-out fee", "Labour (per hour)", "Hot water valve",
                                                     "Copper fittings", "Blocked drain clearance"]),
             ("Brightline Electrical Pty Ltd", ["Labour (per hour)", "Power point installation",
                                                "LED downlight", "Switchboard upgrade", "Safety inspection"]),
             ("Summit IT Consulting", ["Consulting (per hour)", "Network setup", "Laptop", "Software licence",
                                       "Monthly support plan"]),
             ("Greenleaf Landscaping", ["Garden maintenance", "Mulch (m3)", "Turf (m2)", "Hedge trimming",
                                        "Green waste removal"]),
             ("Inkwell Printing Co", ["Business cards (500)", "A4 flyers (1000)", "Banner 2m x 1m",
                                      "Design work (per hour)", "Brochures (250)"]),
             ("Gumtree Catering", ["Morning tea (per head)", "Lunch platter", "Staff hire (per hour)",
                                   "Delivery", "Drinks package"])]
BUYERS = ["Acacia Holdings Pty Ltd", "Riverbend Dental Clinic", "Harbourside Accounting", "J & M Nguyen Family Trust",
          "Koala Creek Primary School", "Redgum Motors Pty Ltd", "Sarah Mitchell", "Blue Wren Architects"]
PAYMENTS = ["EFTPOS", "VISA CREDIT", "MASTERCARD", "CASH", "AMEX", "Visa Debit"]
BANKS = ["Southern Cross Bank", "Wattle Credit Union", "Harbour Savings Bank"]
PEOPLE = ["Emily Chen", "Jack Wilson", "Olivia Brown", "Liam O'Connor", "Priya Sharma", "Noah Williams"]

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
