package com.example.blog;

import jakarta.persistence.*;

@Entity
@Table(name = "categories")
public class Category {
    @Id
    private Long id;
    private String label;

    public String getLabel() { return label; }
}
