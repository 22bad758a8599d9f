const express = require("express");
const { sequelize } = require("../models");

const router = express.Router();

async function statusCounts(req, res) { // expect: handler status counts
  const [rows] = await sequelize.query(
    "SELECT status, count(*) AS n FROM articles WHERE created_at > $1 GROUP BY status", // expect: P005 raw sql
    { bind: [req.query.since] },
  );
  const totals = {};
  for (const status of ["draft", "published"]) { // expect-not: articles
    totals[status] = await sequelize.query("SELECT count(*) FROM articles WHERE status = $1", { bind: [status] });
  }
  res.json({ rows, totals });
}

router.get("/status", statusCounts);

module.exports = { router };
