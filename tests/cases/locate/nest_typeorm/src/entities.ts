import { Column, Entity, ManyToOne, OneToMany, PrimaryGeneratedColumn } from "typeorm";

@Entity("writers")
export class Writer {
  @PrimaryGeneratedColumn() id: number;
  @Column() name: string;
  @OneToMany(() => Story, (story) => story.writer) stories: Story[];
}

@Entity({ name: "stories" })
export class Story {
  @PrimaryGeneratedColumn() id: number;
  @Column() title: string;
  @ManyToOne(() => Writer, (writer) => writer.stories)
  writer: Writer;
  @ManyToOne(() => Section, { eager: true })
  section: Section;
}

@Entity()
export class Section {
  @PrimaryGeneratedColumn() id: number;
  @Column() label: string;
}
