package com.example.blog;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

@Entity
@Table(name = "authors")
public class Author {
    @Id
    private Long id;
    private String name;

    public String getName() {
        return name;
    }
}
