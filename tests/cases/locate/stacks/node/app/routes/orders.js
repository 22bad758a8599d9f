const orm = require("orm");

async function showOrder(req) {
  const order = await orm.load("orders", req.params.id); // expect: own frame
  return { id: req.params.id, total: order.total };
}

module.exports = { showOrder };
