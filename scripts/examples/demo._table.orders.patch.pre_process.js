// Stamp `updated_at` on every change of an order.
//
// Event: demo._table.orders.patch.pre_process — runs before PATCH /api/demo/_table/orders[/{id}].
// Changing `event.request.payload` changes what is written.
var body = event.request.payload;
var records = Array.isArray(body) ? body : body && body.resource ? body.resource : [body];
var now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

records.forEach(function (r) {
    if (r && typeof r === 'object') {
        r.updated_at = now;
    }
});
