from fastapi import FastAPI

from .routers import orders

app = FastAPI()
app.include_router(orders.router, prefix="/v2")


@app.get("/healthz")
async def healthz():  # expect: handler healthz
    return {"ok": True}
