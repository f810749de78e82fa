// Print every VEVENT of an .ics file as JSON: its UID and its start and end as UTC instants,
// computed by ical.js from the file's own VTIMEZONE components (none are built in).
// Usage: node read-ics.mjs FILE.ics
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(process.argv[2], "utf8");
const calendar = new ICAL.Component(ICAL.parse(text));

for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(vtimezone));
}

// A TZID without a VTIMEZONE would silently become floating time: refuse it instead.
const utc = (component, name) => {
  const property = component.getFirstProperty(name);
  const tzid = property.getParameter("tzid");
  if (tzid && !ICAL.TimezoneService.has(tzid)) {
    throw new Error(`${name}: no VTIMEZONE for TZID ${tzid}`);
  }
  const time = property.getFirstValue();
  return new Date(time.toUnixTime() * 1000).toISOString().replace(".000Z", "Z");
};

const events = calendar.getAllSubcomponents("vevent").map((component) => {
  const event = new ICAL.Event(component);
  return {
    uid: event.uid,
    tzid: component.getFirstProperty("dtstart").getParameter("tzid") ?? null,
    start: utc(component, "dtstart"),
    end: utc(component, "dtend"),
  };
});
process.stdout.write(JSON.stringify(events) + "\n");
