-- wrk script for the POST /api/v1/customers target of bench/run.
-- wrk sends GET without a body unless told otherwise; the API rejects a
-- customer creation without a JSON Content-Type, so both are set here.
-- Every request creates a new customer: this measures a database write
-- (a new row plus its tokens), the most expensive call a visitor can make
-- without being signed in. bench/run turns the per-address creation
-- throttle off (CHAT_CUSTOMER_CREATE_LIMIT=0), otherwise all but the first
-- few requests would be answered 429.
wrk.method = "POST"
wrk.body = '{"name":"Zhang San","channel":"WEB","metadata":{"source":"homepage"}}'
wrk.headers["Content-Type"] = "application/json"
