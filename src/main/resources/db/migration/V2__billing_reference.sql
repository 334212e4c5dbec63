-- What the runtime has learnt of billing objects (Stripe invoices, charges, PaymentIntents): their legal entity,
-- customer and invoice, recorded when an invoice or a payment is published. Stripe copies an invoice's metadata to
-- almost nothing, so the payments of an invoice and the refunds of a payment find their entity and customer here.
CREATE TABLE billing_reference (
    object_id           VARCHAR(255) PRIMARY KEY,
    legal_entity        VARCHAR(50)  NOT NULL,
    global_customer_id  VARCHAR(255) NOT NULL,
    customer_id         VARCHAR(255),
    invoice_id          VARCHAR(255),
    invoice_number      VARCHAR(255),
    created_at          TIMESTAMP WITH TIME ZONE NOT NULL
);
