package apf

// QueueState is one queue of a [QueueSet] as a server's debug endpoints
// show it (kube-apiserver's dump_queues).
type QueueState struct {
	Waiting       int         `json:"waiting"`
	Executing     int         `json:"executing"`
	SeatsInUse    int         `json:"seatsInUse"`
	WaitingSeats  int         `json:"waitingSeats"`
	NextDispatchR SeatSeconds `json:"nextDispatchR"`
	WaitingWork   SeatSeconds `json:"waitingWork"`
}

// QueueStates returns the state of every queue, by index; exempt and
// rejecting levels have none.
func (qs *QueueSet) QueueStates() []QueueState {
	out := make([]QueueState, len(qs.queues))
	for i, q := range qs.queues {
		out[i] = QueueState{
			Waiting: q.waiting, Executing: q.executing, SeatsInUse: q.seatsInUse,
			WaitingSeats: q.waitingSeats, NextDispatchR: q.nextDispatchR, WaitingWork: q.waitingWork,
		}
	}
	return out
}

// QueueOf returns the index of the queue r was put in, or -1 when it
// executes without queuing (exempt and rejecting levels).
func (qs *QueueSet) QueueOf(r *QRequest) int {
	if r.queue == nil {
		return -1
	}
	return r.queue.index
}
