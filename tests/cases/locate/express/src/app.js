const express = require("express");
const articles = require("./routes/articles");
const { router: reports } = require("./routes/reports");

const app = express();
app.use(express.json());
app.use("/api/articles", articles);
app.use("/reports", reports);

app.get("/health", (req, res) => res.json({ ok: true })); // expect: handler health

module.exports = app;
