<?php

namespace App\Http\Controllers;

use Illuminate\Database\Query;

class OrderController
{
    public function show($id)
    {
        $order = Query::find('orders', $id); // expect: own frame
        return ['id' => $id, 'total' => $order['total']];
    }
}
