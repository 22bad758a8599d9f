"""FastAPI app for the uvicorn console case: a NameError and a pydantic ValidationError escape."""

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    name: str
    price: float


@app.get("/")
def root():
    return {"ok": True}


@app.get("/contact")
def contact():
    return {name: "shop"}  # NameError: a bug


@app.post("/items")
def create(payload: dict):
    return Item(**payload)  # pydantic ValidationError escapes: 500
