// Reject deletes on weekends, on every table of the demo service.
//
// Event: demo._table.{table_name}.delete.pre_process — `{table_name}` matches every table;
// `event.resource` names the one being deleted from.
var day = new Date().getUTCDay(); // 0 = Sunday, 6 = Saturday (UTC)
if (day === 0 || day === 6) {
    throw {
        status_code: 403,
        message: 'deletes from ' + event.resource + ' are not allowed on weekends; try again on Monday'
    };
}
