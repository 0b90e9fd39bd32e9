#include "common/connection_slots.h"

namespace geosteer {

ConnectionSlot::~ConnectionSlot() {
  if (owner_ != nullptr) owner_->remove(*this);
}

ConnectionSlots::~ConnectionSlots() {
  for (List* list : {&idle_, &busy_}) {
    while (list->head != nullptr) remove(*list->head);
  }
}

void ConnectionSlots::append(List& list, ConnectionSlot& slot) {
  slot.prev_ = list.tail;
  slot.next_ = nullptr;
  if (list.tail != nullptr) {
    list.tail->next_ = &slot;
  } else {
    list.head = &slot;
  }
  list.tail = &slot;
}

void ConnectionSlots::unlink(List& list, ConnectionSlot& slot) {
  (slot.prev_ != nullptr ? slot.prev_->next_ : list.head) = slot.next_;
  (slot.next_ != nullptr ? slot.next_->prev_ : list.tail) = slot.prev_;
  slot.prev_ = slot.next_ = nullptr;
}

void ConnectionSlots::add(ConnectionSlot& slot, Clock::time_point now) {
  if (slot.owner_ != nullptr) slot.owner_->remove(slot);
  slot.owner_ = this;
  slot.busy_ = false;
  slot.since_ = now;
  append(idle_, slot);
  ++size_;
}

void ConnectionSlots::remove(ConnectionSlot& slot) {
  if (slot.owner_ != this) return;
  unlink(list_of(slot), slot);
  slot.owner_ = nullptr;
  --size_;
}

void ConnectionSlots::set_idle(ConnectionSlot& slot, Clock::time_point now) {
  if (slot.owner_ != this) return;
  // Every refresh goes to the tail with the latest time, so each list stays in
  // order of `since` and its head is always the first to time out.
  unlink(list_of(slot), slot);
  slot.busy_ = false;
  slot.since_ = now;
  append(idle_, slot);
}

void ConnectionSlots::set_busy(ConnectionSlot& slot, Clock::time_point now) {
  if (slot.owner_ != this || slot.busy_) return;
  unlink(idle_, slot);
  slot.busy_ = true;
  slot.since_ = now;
  append(busy_, slot);
}

ConnectionSlot* ConnectionSlots::most_idle() const {
  return idle_.head != nullptr ? idle_.head : busy_.head;
}

ConnectionSlots::Clock::time_point ConnectionSlots::deadline(const ConnectionSlot& slot) const {
  return slot.since_ + (slot.busy_ ? limits_.io_timeout : limits_.idle_timeout);
}

ConnectionSlot* ConnectionSlots::expired(Clock::time_point now) const {
  for (ConnectionSlot* head : {idle_.head, busy_.head}) {
    if (head != nullptr && deadline(*head) <= now) return head;
  }
  return nullptr;
}

std::optional<ConnectionSlots::Clock::time_point> ConnectionSlots::next_deadline() const {
  std::optional<Clock::time_point> next;
  for (ConnectionSlot* head : {idle_.head, busy_.head}) {
    if (head != nullptr && (!next || deadline(*head) < *next)) next = deadline(*head);
  }
  return next;
}

void SlotReaper::schedule() {
  std::optional<ConnectionSlots::Clock::time_point> next = slots_.next_deadline();
  // A later deadline needs no new wait: the armed one fires first and re-arms.
  if (!next || (armed_at_ && *armed_at_ <= *next)) return;
  armed_at_ = next;
  timer_.expires_at(*next);  // cancels a later wait, whose handler then sees the abort
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed or cancelled: the new owner of armed_at_ runs
    armed_at_.reset();
    reap();
  });
}

void SlotReaper::cancel() {
  armed_at_.reset();
  timer_.cancel();
}

void SlotReaper::reap() {
  auto now = ConnectionSlots::Clock::now();
  while (ConnectionSlot* slot = slots_.expired(now)) {
    close_(*slot);
    // close_ must remove it; if it did not, the loop must still make progress.
    if (slots_.expired(now) == slot) slots_.remove(*slot);
  }
  schedule();
}

}  // namespace geosteer
