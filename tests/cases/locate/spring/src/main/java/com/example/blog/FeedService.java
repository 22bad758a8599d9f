package com.example.blog;

import java.util.ArrayList;
import java.util.List;
import org.springframework.stereotype.Service;

@Service
public class FeedService {
    private final ArticleRepository articles;

    public FeedService(ArticleRepository articles) {
        this.articles = articles;
    }

    public List<String> build() {
        List<String> lines = new ArrayList<>();
        articles.findAll().forEach(article -> { // expect: P001 authors service
            lines.add(article.getTitle() + " by " + article.getAuthor().getName());
        });
        return lines;
    }
}
