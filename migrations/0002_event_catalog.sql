-- Seeds hookd.event_types with the 15 Ultimate Multisite (WP Ultimo v2) webhook events (9 fixed, then
-- the 6 model events) in the plugin's registration order, with the plugin's names and descriptions.
-- Source: /work/shared/reference/ultimate-multisite-webhooks.md §2 (payload blocks §2.2, events §2.3/§2.4).

-- Samples: the plugin's flat, prefixed keys with realistic fake data; amounts as a formatted string plus
-- a *_raw number; dates in the plugin's 'YYYY-MM-DD HH:MM:SS' (UTC) form; wu_version last, as the plugin
-- appends it to every event it sends.

INSERT INTO hookd.event_types (slug, name, description, sample_payload) VALUES
-- 1. payment_received
-- Payment + membership + customer. The real payload drops the membership_* keys when the
-- payment has no membership (reference §2.3 #1).
(
    'payment_received',
    'Payment Received',
    'This event is fired every time a new payment is received, regardless of the payment status.',
    $json${
    "payment_id": 88,
    "payment_status": "completed",
    "payment_reference_code": "P3H8ZT6RQ2",
    "payment_subtotal": "$ 29.00",
    "payment_subtotal_raw": 29.0,
    "payment_tax_total": "$ 2.32",
    "payment_tax_total_raw": 2.32,
    "payment_total": "$ 31.32",
    "payment_total_raw": 31.32,
    "payment_currency": "USD",
    "payment_product_names": "Business Plan",
    "payment_date_created": "2026-03-14 09:21:37",
    "payment_gateway": "stripe",
    "payment_invoice_url": "https://network.example.com/?action=invoice&reference=P3H8ZT6RQ2&key=3f9a2c7b1e",
    "payment_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-payment&id=88",
    "membership_id": 23,
    "membership_status": "active",
    "membership_reference_code": "K7Q2M9XW4B",
    "membership_initial_amount": "$ 29.00",
    "membership_initial_amount_raw": 29.0,
    "membership_amount": "$ 29.00",
    "membership_amount_raw": 29.0,
    "membership_currency": "USD",
    "membership_description": "$ 29.00 every month",
    "membership_gateway": "stripe",
    "membership_date_expiration": "2026-04-14 09:21:37",
    "membership_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-membership&id=23",
    "customer_id": 17,
    "customer_name": "Jane Doe",
    "customer_user_id": 42,
    "customer_user_email": "jane.doe@example.com",
    "customer_email_verification": "verified",
    "customer_avatar": "<img alt='' src='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=40&d=identicon&r=g' srcset='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=80&d=identicon&r=g 2x' class='avatar avatar-40 photo' height='40' width='40' loading='lazy' decoding='async'/>",
    "customer_billing_address": "Jane's Bakery LLC\nbilling@janesbakery.example.com\n123 Main Street\nSuite 4\nUS\nIL\nSpringfield\n62701",
    "customer_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-customer&id=17",
    "wu_version": "2.4.13-beta.1"
}$json$::jsonb
),

-- 2. site_published
-- Site + customer + membership (the real payload has the same keys).
(
    'site_published',
    'Site Published',
    'This event is fired every time a new site is created tied to a membership, or transitions from a pending state to a published state.',
    $json${
    "site_id": 12,
    "site_title": "Jane's Bakery",
    "site_description": "Fresh bread and pastries, baked daily.",
    "site_url": "https://janesbakery.network.example.com/",
    "site_admin_url": "https://janesbakery.network.example.com/wp-admin/",
    "site_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-site&id=12",
    "customer_id": 17,
    "customer_name": "Jane Doe",
    "customer_user_id": 42,
    "customer_user_email": "jane.doe@example.com",
    "customer_email_verification": "verified",
    "customer_avatar": "<img alt='' src='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=40&d=identicon&r=g' srcset='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=80&d=identicon&r=g 2x' class='avatar avatar-40 photo' height='40' width='40' loading='lazy' decoding='async'/>",
    "customer_billing_address": "Jane's Bakery LLC\nbilling@janesbakery.example.com\n123 Main Street\nSuite 4\nUS\nIL\nSpringfield\n62701",
    "customer_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-customer&id=17",
    "membership_id": 23,
    "membership_status": "active",
    "membership_reference_code": "K7Q2M9XW4B",
    "membership_initial_amount": "$ 29.00",
    "membership_initial_amount_raw": 29.0,
    "membership_amount": "$ 29.00",
    "membership_amount_raw": 29.0,
    "membership_currency": "USD",
    "membership_description": "$ 29.00 every month",
    "membership_gateway": "stripe",
    "membership_date_expiration": "2026-04-14 09:21:37",
    "membership_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-membership&id=23",
    "wu_version": "2.4.13-beta.1"
}$json$::jsonb
),

-- 3. confirm_email_address
-- verification_link + customer. The plugin's sample link is the placeholder
-- https://linktoverifyemail.com; the real link is the main site URL with
-- ?email-verification-key=<key>&customer=<customer hash> (Customer::get_verification_url() in the
-- plugin source; the reference itself only gives the placeholder).
(
    'confirm_email_address',
    'Email Verification Needed',
    'This event is fired every time a new customer is added with an email verification status of pending.',
    $json${
    "verification_link": "https://network.example.com?email-verification-key=Q8ZK3W7N2P&customer=R5T1X9M4VB",
    "customer_id": 18,
    "customer_name": "Sam Rivera",
    "customer_user_id": 43,
    "customer_user_email": "sam.rivera@example.com",
    "customer_email_verification": "pending",
    "customer_avatar": "<img alt='' src='https://secure.gravatar.com/avatar/a4c2e8f0b1d3e5f7a9c1e3f5a7b9c0d2?s=40&d=identicon&r=g' srcset='https://secure.gravatar.com/avatar/a4c2e8f0b1d3e5f7a9c1e3f5a7b9c0d2?s=80&d=identicon&r=g 2x' class='avatar avatar-40 photo' height='40' width='40' loading='lazy' decoding='async'/>",
    "customer_billing_address": "Rivera Design Studio\nsam.rivera@example.com\n48 Harbor Road\nUS\nOR\nPortland\n97201",
    "customer_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-customer&id=18",
    "wu_version": "2.4.13-beta.1"
}$json$::jsonb
),

-- 4. domain_created
-- Domain + site + membership + customer. domain_active/domain_primary/domain_secure are the
-- STRINGS "true"/"false" (var_export), not JSON booleans.
(
    'domain_created',
    'New Domain Mapping Added',
    'This event is fired every time a new domain mapping is added by a customer.',
    $json${
    "domain_id": 5,
    "domain_domain": "janesbakery.example.com",
    "domain_site_id": 12,
    "domain_stage": "checking-dns",
    "domain_active": "true",
    "domain_primary": "true",
    "domain_secure": "false",
    "domain_date_created": "2026-03-20 14:05:11",
    "domain_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-domain&id=5",
    "site_id": 12,
    "site_title": "Jane's Bakery",
    "site_description": "Fresh bread and pastries, baked daily.",
    "site_url": "https://janesbakery.network.example.com/",
    "site_admin_url": "https://janesbakery.network.example.com/wp-admin/",
    "site_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-site&id=12",
    "membership_id": 23,
    "membership_status": "active",
    "membership_reference_code": "K7Q2M9XW4B",
    "membership_initial_amount": "$ 29.00",
    "membership_initial_amount_raw": 29.0,
    "membership_amount": "$ 29.00",
    "membership_amount_raw": 29.0,
    "membership_currency": "USD",
    "membership_description": "$ 29.00 every month",
    "membership_gateway": "stripe",
    "membership_date_expiration": "2026-04-14 09:21:37",
    "membership_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-membership&id=23",
    "customer_id": 17,
    "customer_name": "Jane Doe",
    "customer_user_id": 42,
    "customer_user_email": "jane.doe@example.com",
    "customer_email_verification": "verified",
    "customer_avatar": "<img alt='' src='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=40&d=identicon&r=g' srcset='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=80&d=identicon&r=g 2x' class='avatar avatar-40 photo' height='40' width='40' loading='lazy' decoding='async'/>",
    "customer_billing_address": "Jane's Bakery LLC\nbilling@janesbakery.example.com\n123 Main Street\nSuite 4\nUS\nIL\nSpringfield\n62701",
    "customer_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-customer&id=17",
    "wu_version": "2.4.13-beta.1"
}$json$::jsonb
),

-- 5. renewal_payment_created
-- default_payment_url + payment + membership + customer. The plugin's sample is misleading:
-- default_payment_url is the placeholder https://linktopayment.com, but the real value is the
-- registration URL with ?payment=<payment hash> (reference §2.3 #5); corrected here.
(
    'renewal_payment_created',
    'New Renewal Payment Created',
    'This event is fired every time a new renewal payment is created by Ultimate Multisite.',
    $json${
    "default_payment_url": "https://network.example.com/register/?payment=H2W8R4K6TN",
    "payment_id": 131,
    "payment_status": "pending",
    "payment_reference_code": "H2W8R4K6TN",
    "payment_subtotal": "$ 29.00",
    "payment_subtotal_raw": 29.0,
    "payment_tax_total": "$ 2.32",
    "payment_tax_total_raw": 2.32,
    "payment_total": "$ 31.32",
    "payment_total_raw": 31.32,
    "payment_currency": "USD",
    "payment_product_names": "Business Plan",
    "payment_date_created": "2026-04-13 00:00:12",
    "payment_gateway": "stripe",
    "payment_invoice_url": "https://network.example.com/?action=invoice&reference=H2W8R4K6TN&key=3f9a2c7b1e",
    "payment_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-payment&id=131",
    "membership_id": 23,
    "membership_status": "active",
    "membership_reference_code": "K7Q2M9XW4B",
    "membership_initial_amount": "$ 29.00",
    "membership_initial_amount_raw": 29.0,
    "membership_amount": "$ 29.00",
    "membership_amount_raw": 29.0,
    "membership_currency": "USD",
    "membership_description": "$ 29.00 every month",
    "membership_gateway": "stripe",
    "membership_date_expiration": "2026-04-14 09:21:37",
    "membership_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-membership&id=23",
    "customer_id": 17,
    "customer_name": "Jane Doe",
    "customer_user_id": 42,
    "customer_user_email": "jane.doe@example.com",
    "customer_email_verification": "verified",
    "customer_avatar": "<img alt='' src='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=40&d=identicon&r=g' srcset='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=80&d=identicon&r=g 2x' class='avatar avatar-40 photo' height='40' width='40' loading='lazy' decoding='async'/>",
    "customer_billing_address": "Jane's Bakery LLC\nbilling@janesbakery.example.com\n123 Main Street\nSuite 4\nUS\nIL\nSpringfield\n62701",
    "customer_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-customer&id=17",
    "wu_version": "2.4.13-beta.1"
}$json$::jsonb
),

-- 6. invoice_sent
-- payment_url + invoice_message + payment + customer (no membership block). The plugin's
-- sample payment_url is the placeholder https://linktopayment.com; the real value is
-- Payment::get_payment_url(), assumed here to be the same ?payment=<hash> link as
-- renewal_payment_created (the reference does not spell it out). A new invoice is pending and
-- has no gateway yet.
(
    'invoice_sent',
    'Invoice Sent',
    'This event is fired every time an invoice is sent to a customer by a network admin.',
    $json${
    "payment_url": "https://network.example.com/register/?payment=M6D3Q9Z1XC",
    "invoice_message": "Hi Jane, here is the invoice for the custom theme setup we discussed. Thanks!",
    "payment_id": 140,
    "payment_status": "pending",
    "payment_reference_code": "M6D3Q9Z1XC",
    "payment_subtotal": "$ 150.00",
    "payment_subtotal_raw": 150.0,
    "payment_tax_total": "$ 0.00",
    "payment_tax_total_raw": 0.0,
    "payment_total": "$ 150.00",
    "payment_total_raw": 150.0,
    "payment_currency": "USD",
    "payment_product_names": "Custom Theme Setup",
    "payment_date_created": "2026-03-22 16:40:03",
    "payment_gateway": "",
    "payment_invoice_url": "https://network.example.com/?action=invoice&reference=M6D3Q9Z1XC&key=3f9a2c7b1e",
    "payment_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-payment&id=140",
    "customer_id": 17,
    "customer_name": "Jane Doe",
    "customer_user_id": 42,
    "customer_user_email": "jane.doe@example.com",
    "customer_email_verification": "verified",
    "customer_avatar": "<img alt='' src='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=40&d=identicon&r=g' srcset='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=80&d=identicon&r=g 2x' class='avatar avatar-40 photo' height='40' width='40' loading='lazy' decoding='async'/>",
    "customer_billing_address": "Jane's Bakery LLC\nbilling@janesbakery.example.com\n123 Main Street\nSuite 4\nUS\nIL\nSpringfield\n62701",
    "customer_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-customer&id=17",
    "wu_version": "2.4.13-beta.1"
}$json$::jsonb
),

-- 7. payment_failed
-- Membership + customer + payment_gateway ("stripe" or "paypal"). There is no payment_* block:
-- payment_gateway is the only payment key.
(
    'payment_failed',
    'Recurring Payment Failed',
    'Fired when an auto-renewing payment fails (Stripe/PayPal).',
    $json${
    "membership_id": 23,
    "membership_status": "active",
    "membership_reference_code": "K7Q2M9XW4B",
    "membership_initial_amount": "$ 29.00",
    "membership_initial_amount_raw": 29.0,
    "membership_amount": "$ 29.00",
    "membership_amount_raw": 29.0,
    "membership_currency": "USD",
    "membership_description": "$ 29.00 every month",
    "membership_gateway": "stripe",
    "membership_date_expiration": "2026-04-14 09:21:37",
    "membership_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-membership&id=23",
    "customer_id": 17,
    "customer_name": "Jane Doe",
    "customer_user_id": 42,
    "customer_user_email": "jane.doe@example.com",
    "customer_email_verification": "verified",
    "customer_avatar": "<img alt='' src='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=40&d=identicon&r=g' srcset='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=80&d=identicon&r=g 2x' class='avatar avatar-40 photo' height='40' width='40' loading='lazy' decoding='async'/>",
    "customer_billing_address": "Jane's Bakery LLC\nbilling@janesbakery.example.com\n123 Main Street\nSuite 4\nUS\nIL\nSpringfield\n62701",
    "customer_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-customer&id=17",
    "payment_gateway": "stripe",
    "wu_version": "2.4.13-beta.1"
}$json$::jsonb
),

-- 8. membership_expired
-- Membership + customer.
(
    'membership_expired',
    'Membership Expired',
    'Fired when a membership transitions to expired status.',
    $json${
    "membership_id": 31,
    "membership_status": "expired",
    "membership_reference_code": "B9N4V2C8LQ",
    "membership_initial_amount": "$ 12.00",
    "membership_initial_amount_raw": 12.0,
    "membership_amount": "$ 12.00",
    "membership_amount_raw": 12.0,
    "membership_currency": "USD",
    "membership_description": "$ 12.00 every month",
    "membership_gateway": "paypal",
    "membership_date_expiration": "2026-03-31 23:59:59",
    "membership_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-membership&id=31",
    "customer_id": 19,
    "customer_name": "Priya Shah",
    "customer_user_id": 57,
    "customer_user_email": "priya.shah@example.com",
    "customer_email_verification": "verified",
    "customer_avatar": "<img alt='' src='https://secure.gravatar.com/avatar/0b7e5d3c1a9f8e6d4c2b0a1f3e5d7c9b?s=40&d=identicon&r=g' srcset='https://secure.gravatar.com/avatar/0b7e5d3c1a9f8e6d4c2b0a1f3e5d7c9b?s=80&d=identicon&r=g 2x' class='avatar avatar-40 photo' height='40' width='40' loading='lazy' decoding='async'/>",
    "customer_billing_address": "Shah Consulting\naccounts@shahconsulting.example.com\n9 Elm Court\nGB\nLondon\nN1 9GU",
    "customer_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-customer&id=19",
    "wu_version": "2.4.13-beta.1"
}$json$::jsonb
),

-- 9. demo_site_expiring
-- The plugin's sample is WRONG: it is flat (site_* + membership_* + customer_* keys plus
-- demo_expires_at, demo_time_remaining, site_admin_url, site_url), but the real payload is
-- NESTED: `site`, `membership` and `customer` are the models' to_array() dumps (unprefixed model
-- properties), plus the 4 extra top-level keys (reference §2.3 #9, §7.2 #9). This is the real
-- shape. The reference does not list the to_array() fields: the nested objects below hold the
-- main model properties only (the plugin sends every property, and raw DB values may arrive as
-- strings). The nested customer has user_id, not the user's display name or login email.
(
    'demo_site_expiring',
    'Demo Site Expiring',
    'Fired when a demo site is about to expire, based on the warning time setting.',
    $json${
    "site": {
        "id": 57,
        "blog_id": 57,
        "site_id": 1,
        "title": "Acme Demo",
        "description": "Just another demo site",
        "domain": "acme-demo.network.example.com",
        "path": "/",
        "registered": "2026-03-14 08:00:00",
        "last_updated": "2026-03-14 09:12:44",
        "active": true,
        "public": true,
        "archived": false,
        "mature": false,
        "spam": false,
        "deleted": false,
        "customer_id": 20,
        "membership_id": 35,
        "template_id": 3,
        "type": "demo"
    },
    "membership": {
        "id": 35,
        "customer_id": 20,
        "user_id": 61,
        "plan_id": 4,
        "addon_products": [],
        "currency": "USD",
        "initial_amount": 0,
        "recurring": false,
        "auto_renew": false,
        "duration": 1,
        "duration_unit": "day",
        "amount": 0,
        "date_created": "2026-03-14 08:00:00",
        "date_activated": "2026-03-14 08:00:00",
        "date_trial_end": null,
        "date_renewed": null,
        "date_cancellation": null,
        "date_expiration": "2026-03-15 08:00:00",
        "times_billed": 0,
        "billing_cycles": 0,
        "status": "active",
        "gateway": "free",
        "gateway_customer_id": "",
        "gateway_subscription_id": "",
        "signup_method": "checkout",
        "upgraded_from": 0,
        "disabled": false
    },
    "customer": {
        "id": 20,
        "user_id": 61,
        "type": "customer",
        "date_registered": "2026-03-14 08:00:00",
        "email_verification": "none",
        "last_login": "2026-03-14 08:01:37",
        "has_trialed": false,
        "vip": false,
        "ips": [
            "203.0.113.24"
        ],
        "signup_form": "demo-signup",
        "extra_information": {},
        "network_id": null
    },
    "demo_expires_at": "2026-03-15 08:00:00",
    "demo_time_remaining": "1 hour",
    "site_admin_url": "https://acme-demo.network.example.com/wp-admin/",
    "site_url": "https://acme-demo.network.example.com/",
    "wu_version": "2.4.13-beta.1"
}$json$::jsonb
),

-- 10. customer_created (model event)
-- Model events (reference §2.4). The plugin probably never registers these six (a likely
-- hook-ordering bug, §2.4); they are seeded here as the intended list. Name is
-- "<Label> <Type>", description is the plugin's template. customer_*: customer + billing
-- address fields (empty strings in the plugin's sample, realistic values here). The reference
-- describes no extra "changes" keys for *_updated: the payload is the model's state after save.
(
    'customer_created',
    'Customer Created',
    'This event is fired every time a Customer is created by Ultimate Multisite.',
    $json${
    "customer_id": 18,
    "customer_name": "Sam Rivera",
    "customer_user_id": 43,
    "customer_user_email": "sam.rivera@example.com",
    "customer_email_verification": "pending",
    "customer_avatar": "<img alt='' src='https://secure.gravatar.com/avatar/a4c2e8f0b1d3e5f7a9c1e3f5a7b9c0d2?s=40&d=identicon&r=g' srcset='https://secure.gravatar.com/avatar/a4c2e8f0b1d3e5f7a9c1e3f5a7b9c0d2?s=80&d=identicon&r=g 2x' class='avatar avatar-40 photo' height='40' width='40' loading='lazy' decoding='async'/>",
    "customer_billing_address": "Rivera Design Studio\nsam.rivera@example.com\n48 Harbor Road\nUS\nOR\nPortland\n97201",
    "customer_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-customer&id=18",
    "company_name": "Rivera Design Studio",
    "billing_email": "sam.rivera@example.com",
    "billing_address_line_1": "48 Harbor Road",
    "billing_address_line_2": "",
    "billing_country": "US",
    "billing_state": "OR",
    "billing_city": "Portland",
    "billing_zip_code": "97201",
    "wu_version": "2.4.13-beta.1"
}$json$::jsonb
),

-- 11. customer_updated (model event)
(
    'customer_updated',
    'Customer Updated',
    'This event is fired every time a Customer is updated by Ultimate Multisite.',
    $json${
    "customer_id": 17,
    "customer_name": "Jane Doe",
    "customer_user_id": 42,
    "customer_user_email": "jane.doe@example.com",
    "customer_email_verification": "verified",
    "customer_avatar": "<img alt='' src='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=40&d=identicon&r=g' srcset='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=80&d=identicon&r=g 2x' class='avatar avatar-40 photo' height='40' width='40' loading='lazy' decoding='async'/>",
    "customer_billing_address": "Jane's Bakery LLC\nbilling@janesbakery.example.com\n123 Main Street\nSuite 4\nUS\nIL\nSpringfield\n62701",
    "customer_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-customer&id=17",
    "company_name": "Jane's Bakery LLC",
    "billing_email": "billing@janesbakery.example.com",
    "billing_address_line_1": "123 Main Street",
    "billing_address_line_2": "Suite 4",
    "billing_country": "US",
    "billing_state": "IL",
    "billing_city": "Springfield",
    "billing_zip_code": "62701",
    "wu_version": "2.4.13-beta.1"
}$json$::jsonb
),

-- 12. membership_created (model event)
-- membership_*: membership + customer + billing address fields.
(
    'membership_created',
    'Membership Created',
    'This event is fired every time a Membership is created by Ultimate Multisite.',
    $json${
    "membership_id": 36,
    "membership_status": "pending",
    "membership_reference_code": "T4G7J2P9WS",
    "membership_initial_amount": "$ 19.00",
    "membership_initial_amount_raw": 19.0,
    "membership_amount": "$ 19.00",
    "membership_amount_raw": 19.0,
    "membership_currency": "USD",
    "membership_description": "$ 19.00 every month",
    "membership_gateway": "stripe",
    "membership_date_expiration": "2026-04-20 10:15:00",
    "membership_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-membership&id=36",
    "customer_id": 18,
    "customer_name": "Sam Rivera",
    "customer_user_id": 43,
    "customer_user_email": "sam.rivera@example.com",
    "customer_email_verification": "pending",
    "customer_avatar": "<img alt='' src='https://secure.gravatar.com/avatar/a4c2e8f0b1d3e5f7a9c1e3f5a7b9c0d2?s=40&d=identicon&r=g' srcset='https://secure.gravatar.com/avatar/a4c2e8f0b1d3e5f7a9c1e3f5a7b9c0d2?s=80&d=identicon&r=g 2x' class='avatar avatar-40 photo' height='40' width='40' loading='lazy' decoding='async'/>",
    "customer_billing_address": "Rivera Design Studio\nsam.rivera@example.com\n48 Harbor Road\nUS\nOR\nPortland\n97201",
    "customer_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-customer&id=18",
    "company_name": "Rivera Design Studio",
    "billing_email": "sam.rivera@example.com",
    "billing_address_line_1": "48 Harbor Road",
    "billing_address_line_2": "",
    "billing_country": "US",
    "billing_state": "OR",
    "billing_city": "Portland",
    "billing_zip_code": "97201",
    "wu_version": "2.4.13-beta.1"
}$json$::jsonb
),

-- 13. membership_updated (model event)
(
    'membership_updated',
    'Membership Updated',
    'This event is fired every time a Membership is updated by Ultimate Multisite.',
    $json${
    "membership_id": 23,
    "membership_status": "active",
    "membership_reference_code": "K7Q2M9XW4B",
    "membership_initial_amount": "$ 29.00",
    "membership_initial_amount_raw": 29.0,
    "membership_amount": "$ 29.00",
    "membership_amount_raw": 29.0,
    "membership_currency": "USD",
    "membership_description": "$ 29.00 every month",
    "membership_gateway": "stripe",
    "membership_date_expiration": "2026-05-14 09:21:37",
    "membership_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-membership&id=23",
    "customer_id": 17,
    "customer_name": "Jane Doe",
    "customer_user_id": 42,
    "customer_user_email": "jane.doe@example.com",
    "customer_email_verification": "verified",
    "customer_avatar": "<img alt='' src='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=40&d=identicon&r=g' srcset='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=80&d=identicon&r=g 2x' class='avatar avatar-40 photo' height='40' width='40' loading='lazy' decoding='async'/>",
    "customer_billing_address": "Jane's Bakery LLC\nbilling@janesbakery.example.com\n123 Main Street\nSuite 4\nUS\nIL\nSpringfield\n62701",
    "customer_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-customer&id=17",
    "company_name": "Jane's Bakery LLC",
    "billing_email": "billing@janesbakery.example.com",
    "billing_address_line_1": "123 Main Street",
    "billing_address_line_2": "Suite 4",
    "billing_country": "US",
    "billing_state": "IL",
    "billing_city": "Springfield",
    "billing_zip_code": "62701",
    "wu_version": "2.4.13-beta.1"
}$json$::jsonb
),

-- 14. payment_created (model event)
-- payment_*: payment + membership + customer + billing address fields (the billing address
-- comes from the payment's membership).
(
    'payment_created',
    'Payment Created',
    'This event is fired every time a Payment is created by Ultimate Multisite.',
    $json${
    "payment_id": 152,
    "payment_status": "pending",
    "payment_reference_code": "C8F2Y6L3QR",
    "payment_subtotal": "$ 19.00",
    "payment_subtotal_raw": 19.0,
    "payment_tax_total": "$ 0.00",
    "payment_tax_total_raw": 0.0,
    "payment_total": "$ 19.00",
    "payment_total_raw": 19.0,
    "payment_currency": "USD",
    "payment_product_names": "Starter Plan",
    "payment_date_created": "2026-03-20 10:15:00",
    "payment_gateway": "stripe",
    "payment_invoice_url": "https://network.example.com/?action=invoice&reference=C8F2Y6L3QR&key=3f9a2c7b1e",
    "payment_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-payment&id=152",
    "membership_id": 36,
    "membership_status": "pending",
    "membership_reference_code": "T4G7J2P9WS",
    "membership_initial_amount": "$ 19.00",
    "membership_initial_amount_raw": 19.0,
    "membership_amount": "$ 19.00",
    "membership_amount_raw": 19.0,
    "membership_currency": "USD",
    "membership_description": "$ 19.00 every month",
    "membership_gateway": "stripe",
    "membership_date_expiration": "2026-04-20 10:15:00",
    "membership_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-membership&id=36",
    "customer_id": 18,
    "customer_name": "Sam Rivera",
    "customer_user_id": 43,
    "customer_user_email": "sam.rivera@example.com",
    "customer_email_verification": "pending",
    "customer_avatar": "<img alt='' src='https://secure.gravatar.com/avatar/a4c2e8f0b1d3e5f7a9c1e3f5a7b9c0d2?s=40&d=identicon&r=g' srcset='https://secure.gravatar.com/avatar/a4c2e8f0b1d3e5f7a9c1e3f5a7b9c0d2?s=80&d=identicon&r=g 2x' class='avatar avatar-40 photo' height='40' width='40' loading='lazy' decoding='async'/>",
    "customer_billing_address": "Rivera Design Studio\nsam.rivera@example.com\n48 Harbor Road\nUS\nOR\nPortland\n97201",
    "customer_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-customer&id=18",
    "company_name": "Rivera Design Studio",
    "billing_email": "sam.rivera@example.com",
    "billing_address_line_1": "48 Harbor Road",
    "billing_address_line_2": "",
    "billing_country": "US",
    "billing_state": "OR",
    "billing_city": "Portland",
    "billing_zip_code": "97201",
    "wu_version": "2.4.13-beta.1"
}$json$::jsonb
),

-- 15. payment_updated (model event)
(
    'payment_updated',
    'Payment Updated',
    'This event is fired every time a Payment is updated by Ultimate Multisite.',
    $json${
    "payment_id": 88,
    "payment_status": "refunded",
    "payment_reference_code": "P3H8ZT6RQ2",
    "payment_subtotal": "$ 29.00",
    "payment_subtotal_raw": 29.0,
    "payment_tax_total": "$ 2.32",
    "payment_tax_total_raw": 2.32,
    "payment_total": "$ 31.32",
    "payment_total_raw": 31.32,
    "payment_currency": "USD",
    "payment_product_names": "Business Plan",
    "payment_date_created": "2026-03-14 09:21:37",
    "payment_gateway": "stripe",
    "payment_invoice_url": "https://network.example.com/?action=invoice&reference=P3H8ZT6RQ2&key=3f9a2c7b1e",
    "payment_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-payment&id=88",
    "membership_id": 23,
    "membership_status": "active",
    "membership_reference_code": "K7Q2M9XW4B",
    "membership_initial_amount": "$ 29.00",
    "membership_initial_amount_raw": 29.0,
    "membership_amount": "$ 29.00",
    "membership_amount_raw": 29.0,
    "membership_currency": "USD",
    "membership_description": "$ 29.00 every month",
    "membership_gateway": "stripe",
    "membership_date_expiration": "2026-04-14 09:21:37",
    "membership_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-membership&id=23",
    "customer_id": 17,
    "customer_name": "Jane Doe",
    "customer_user_id": 42,
    "customer_user_email": "jane.doe@example.com",
    "customer_email_verification": "verified",
    "customer_avatar": "<img alt='' src='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=40&d=identicon&r=g' srcset='https://secure.gravatar.com/avatar/5f1d3c9e8a7b6c4d2e0f1a2b3c4d5e6f?s=80&d=identicon&r=g 2x' class='avatar avatar-40 photo' height='40' width='40' loading='lazy' decoding='async'/>",
    "customer_billing_address": "Jane's Bakery LLC\nbilling@janesbakery.example.com\n123 Main Street\nSuite 4\nUS\nIL\nSpringfield\n62701",
    "customer_manage_url": "https://network.example.com/wp-admin/network/admin.php?page=wp-ultimo-edit-customer&id=17",
    "company_name": "Jane's Bakery LLC",
    "billing_email": "billing@janesbakery.example.com",
    "billing_address_line_1": "123 Main Street",
    "billing_address_line_2": "Suite 4",
    "billing_country": "US",
    "billing_state": "IL",
    "billing_city": "Springfield",
    "billing_zip_code": "62701",
    "wu_version": "2.4.13-beta.1"
}$json$::jsonb
);
