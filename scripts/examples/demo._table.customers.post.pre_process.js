// Validate before writing: every new customer needs a plausible email address.
//
// Event: demo._table.customers.post.pre_process — runs before POST /api/demo/_table/customers.
// `event.request.payload` is the body as sent: one record, a list, or {"resource": [...]}.
// Throwing {status_code, message} answers with that status and code `script_rejected`;
// nothing is written.
var body = event.request.payload;
var records = Array.isArray(body) ? body : body && body.resource ? body.resource : [body];

records.forEach(function (r, i) {
    var email = r && typeof r.email === 'string' ? r.email.trim() : '';
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
        throw { status_code: 422, message: 'record ' + i + ': "' + email + '" is not an email address' };
    }
    // reshape as well as check: store addresses in lower case
    r.email = email.toLowerCase();
});
