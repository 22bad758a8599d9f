import express, { Request, Response } from "express";
import { AppDataSource } from "./data-source";
import { Story } from "./entities";

const app = express();

app.get("/stories", async (req: Request, res: Response) => {
  const stories = await AppDataSource.getRepository(Story).find({ take: 20 });
  const out = [];
  for (const story of stories) { // expect: P001 writers
    const writer = await story.writer;
    out.push({ title: story.title, writer: writer.name, section: story.section.label }); // expect-not: section
  }
  res.json(out);
});

app.get("/stories/joined", async (req: Request, res: Response) => {
  const stories = await AppDataSource.getRepository(Story)
    .createQueryBuilder("story")
    .leftJoinAndSelect("story.writer", "writer")
    .getMany();
  res.json(stories.map((s) => ({ title: s.title, writer: s.writer.name }))); // expect-not: writers joined
});

export default app;
