package com.example.blog;

import jakarta.persistence.*;

@Entity
@Table(name = "comments")
public class Comment {
    @Id
    private Long id;
    private String body;

    @ManyToOne
    private Article article;
}
