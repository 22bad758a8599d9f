import orm


def show_order(order_id):
    order = orm.load("orders", order_id)  # expect: own frame
    return {"id": order_id, "total": order["total"]}
