package main

import "github.com/lib/orm"

func showOrder(id int) map[string]int {
	order := orm.Load("orders", id) // expect: own frame
	return map[string]int{"id": id, "total": order}
}
