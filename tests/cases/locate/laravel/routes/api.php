<?php

use App\Http\Controllers\ArticleController;
use App\Http\Controllers\ReportController;
use Illuminate\Support\Facades\Route;

Route::get('/articles', [ArticleController::class, 'index']);
Route::get('/articles/{article}/comments', [ArticleController::class, 'comments']);

Route::prefix('reports')->group(function () {
    Route::get('/monthly', 'ReportController@monthly');
});
