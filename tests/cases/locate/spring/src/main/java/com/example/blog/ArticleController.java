package com.example.blog;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.web.bind.annotation.*;

@RestController
@RequestMapping("/api/articles")
public class ArticleController {
    private final ArticleRepository articles;

    public ArticleController(ArticleRepository articles) {
        this.articles = articles;
    }

    @GetMapping
    public List<Map<String, String>> list() {
        List<Map<String, String>> out = new ArrayList<>();
        for (Article article : articles.findAll()) { // expect: P001 authors
            out.add(Map.of("title", article.getTitle(), "author", article.getAuthor().getName()));
        }
        return out;
    }

    @GetMapping("/{id}/category")
    public List<String> categories(@PathVariable Long id) {
        List<String> labels = new ArrayList<>();
        for (Article article : articles.findAllWithCategory()) { // expect-not: categories
            labels.add(article.getCategory().getLabel());
        }
        return labels;
    }

    @GetMapping(path = {"/{id}/categories-all", "/{id}/categories-legacy"})
    public List<String> allCategories(@PathVariable Long id) {
        return articles.findAll().stream()
                .map(a -> a.getCategory().getLabel()) // expect: P001 categories eager
                .toList();
    }

    @RequestMapping(value = "/{id}/comments", method = RequestMethod.GET)
    public int commentCount(@PathVariable Long id) { // expect: handler comment count
        return articles.findById(id).map(a -> a.getComments().size()).orElse(0);
    }
}
