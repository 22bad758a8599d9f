import { Controller, Get, Param } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { Repository } from "typeorm";
import { Writer } from "./entities";

@Controller("writers")
export class WritersController {
  constructor(@InjectRepository(Writer) private readonly writers: Repository<Writer>) {}

  @Get(":id/stories")
  async stories(@Param("id") id: string) { // expect: handler nest stories
    const writer = await this.writers.findOneByOrFail({ id: Number(id) });
    return { name: writer.name };
  }

  @Get()
  async list() {
    const writers = await this.writers.find();
    return Promise.all(writers.map(async (w) => ({ name: w.name, stories: (await w.stories).length }))); // expect: P001 stories nest
  }
}
