// Drop a field from responses: only admins see salaries.
//
// Event: demo._table.employees.get.post_process — runs after GET /api/demo/_table/employees[/{id}].
// `event.response.content` is the answer about to be sent; change it in place.
// (For a role that must never see a column, a `p3` rule in policies/ is the stronger tool:
// it also keeps the column out of filters, ordering and the API description.)
if (event.session.role !== 'admin') {
    var content = event.response.content;
    var rows = content && Array.isArray(content.resource) ? content.resource : [content];
    rows.forEach(function (r) {
        if (r && typeof r === 'object') {
            delete r.salary;
        }
    });
}
