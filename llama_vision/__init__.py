"""llama_vision: read Australian receipts, tax invoices and bank statements and check them
against the ATO's tax-invoice rules.

Importing this package must stay cheap: it never imports torch, transformers or gradio.
"""

__version__ = "0.1.0"
