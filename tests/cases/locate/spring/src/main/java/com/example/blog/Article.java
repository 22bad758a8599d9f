package com.example.blog;

import jakarta.persistence.*;
import java.util.List;

@Entity
public class Article {
    @Id
    private Long id;
    private String title;

    @ManyToOne(fetch = FetchType.LAZY)
    private Author author;

    @OneToMany(mappedBy = "article")
    private List<Comment> comments;

    @ManyToOne(fetch = FetchType.EAGER)
    private Category category;

    public String getTitle() { return title; }
    public Author getAuthor() { return author; }
    public List<Comment> getComments() { return comments; }
    public Category getCategory() { return category; }
}
