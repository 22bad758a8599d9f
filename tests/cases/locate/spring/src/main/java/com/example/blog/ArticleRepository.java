package com.example.blog;

import java.util.List;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Query;

public interface ArticleRepository extends JpaRepository<Article, Long> {
    @Query(value = "SELECT a.id, a.title FROM article a WHERE a.title LIKE ?1 ORDER BY a.id DESC", nativeQuery = true) // expect: P005 raw sql
    List<Object[]> search(String term);

    @Query("select a from Article a join fetch a.category")
    List<Article> findAllWithCategory();
}
