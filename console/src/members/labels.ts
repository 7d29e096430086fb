/** How a person is named in lists and pickers: "Sarah Lee <sarah@example.com>". */
export function memberLabel(user: { email: string; name: string }): string {
  return user.name && user.name !== user.email ? `${user.name} <${user.email}>` : user.email;
}
