from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Order

router = APIRouter(prefix="/orders")


@router.get("/{order_id}/items")
def order_items(order_id: int, db: Annotated[Session, Depends()]):
    orders = db.scalars(select(Order).where(Order.customer_id == order_id)).all()
    return {
        o.id: [item.id for item in o.items]  # expect: P001 line_items
        for o in orders
    }
