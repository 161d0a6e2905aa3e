/**
 * Eight different messages a resident typed while offline, which WhatsApp delivers within a second
 * on reconnect: a person, never a loop.
 */
export const WHATSAPP_RECONNECT_BURST = [
  "السلام عليكم، في مشكلة بالمي عنا بالبناية",
  "المي مقطوعة من امبارح المسا وما حدا رد علينا",
  "جربنا نتصل بالبلدية بس الخط مشغول طول الوقت",
  "Also the street light in front of the building is off",
  "and there is a big pothole right next to the entrance",
  "الولاد عم يوقعوا فيها وهني رايحين عالمدرسة",
  "please, someone has to come and have a look at it",
  "شكرا سلفاً وبانتظار ردكم بأقرب وقت ممكن",
] as const;

/** Six ordinary sentences a resident types one after another (each answered within two seconds). */
export const ORDINARY_SENTENCES = [
  "The water pipe on our street is leaking again.",
  "It started this morning, around seven o'clock.",
  "Now the whole road is flooded near the bakery.",
  "My neighbours' basement has water in it too.",
  "Can you please send someone to look at it today?",
  "We live in the building behind the old school.",
] as const;
