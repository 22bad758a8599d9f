<?php

namespace App\Http\Controllers;

use Illuminate\Support\Facades\DB;

class ReportController extends Controller
{
    public function monthly() // expect: handler monthly
    {
        return DB::select('SELECT author_id, count(*) AS n FROM articles WHERE published_at > ? GROUP BY author_id', [now()->subMonth()]); // expect: P005 raw sql
    }
}
