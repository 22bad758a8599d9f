<?php

namespace App\Http\Controllers;

use App\Models\Article;

class ArticleController extends Controller
{
    public function index()
    {
        $out = [];
        foreach (Article::latest()->take(50)->get() as $article) { // expect: P001 writers
            $out[] = ['title' => $article->title, 'author' => $article->author->name];
        }
        return response()->json($out);
    }

    public function comments(Article $article)
    {
        $comments = $article->comments()->with('user')->get();
        $out = [];
        foreach ($comments as $comment) { // expect-not: users
            $out[] = ['body' => $comment->body, 'by' => $comment->user->email];
        }
        return response()->json($out);
    }
}
