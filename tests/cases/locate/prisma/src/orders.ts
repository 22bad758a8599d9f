import { PrismaClient } from "@prisma/client";
import { Router } from "express";

const prisma = new PrismaClient();
export const orders = Router();

orders.get("/orders", async (req, res) => {
  const rows = await prisma.order.findMany({ take: 50 });
  const out = await Promise.all(
    rows.map(async (o) => ({ // expect: P001 members
      id: o.id,
      email: (await prisma.member.findUnique({ where: { id: o.memberId } }))?.email,
    })),
  );
  res.json(out);
});

orders.get("/orders/with-members", async (req, res) => {
  const rows = await prisma.order.findMany({ include: { member: true } });
  res.json(rows.map((o) => ({ id: o.id, email: o.member.email }))); // expect-not: members included
});
